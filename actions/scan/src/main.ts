// berth/scan: main step. A skeleton until its behaviour lands (see the project issues).

export async function main(): Promise<void> {
  throw new Error('berth/scan is not implemented yet; see the project issues');
}
