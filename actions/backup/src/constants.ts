// Names of berth/backup's inputs, outputs and saved state, kept in one place so action.yml,
// the code and the tests agree. Empty until the action is specified.

export const Inputs = {} as const;

export const Outputs = {} as const;

export const State = {} as const;
