// The deploy script's switch: pin what runs now by digest, then point `current` at the release.
import { bash } from '../../../../lib/ssh/host-script.js';

export const SWITCH = bash`enter switch
# Pin what runs now by digest, so a rollback to this release brings back exactly these images.
pins="$rel/.berth/pins.yml"
echo "services:" >"$pins"
if [ "$MODE" = swarm ]; then
  # Swarm resolved every image to a digest (--resolve-image always): the service spec holds it.
  mapfile -t ids < <(docker service ls -q --filter "label=com.docker.stack.namespace=$PROJECT")
  if [ "$\{#ids[@]}" -gt 0 ]; then
    while read -r name ref; do
      service=$\{name#"$PROJECT"_}
      printf '  "%s":\n    image: "%s"\n' "$service" "$ref" >>"$pins"
      emit image "$service $ref"
    done < <(docker service inspect -f '{{.Spec.Name}} {{.Spec.TaskTemplate.ContainerSpec.Image}}' "$\{ids[@]}")
  fi
  ids=()
else
  # docker ps, not compose ps: the same containers (compose's project label), without compose's start-up.
  mapfile -t ids < <(docker ps -q --filter "label=com.docker.compose.project=$PROJECT")
fi
if [ "$\{#ids[@]}" -gt 0 ]; then
  # One docker call for all services: each container's service, configured image and image id. An
  # image configured by digest (the images input) is its own pin; others need the image's digest.
  mapfile -t running < <(docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}} {{.Image}} {{.Config.Image}}' "$\{ids[@]}")
  declare -A digest_of=()
  unpinned=()
  for line in "$\{running[@]}"; do
    read -r _ image_id configured <<<"$line"
    [[ "$configured" == *@sha256:* ]] || unpinned+=("$image_id")
  done
  if [ "$\{#unpinned[@]}" -gt 0 ]; then
    while read -r image_id ref; do digest_of[$image_id]=$ref; done < <(
      docker image inspect -f '{{.Id}} {{if .RepoDigests}}{{index .RepoDigests 0}}{{end}}' $(printf '%s\n' "$\{unpinned[@]}" | sort -u)
    )
  fi
  for line in "$\{running[@]}"; do
    read -r service image_id configured <<<"$line"
    if [[ "$configured" == *@sha256:* ]]; then ref=$configured; else ref=$\{digest_of[$image_id]:-$image_id}; fi
    printf '  "%s":\n    image: "%s"\n' "$service" "$ref" >>"$pins"
    emit image "$service $ref"
  done
fi
# A kept release brought back by a rollback lists its pins already.
grep -qxF .berth/pins.yml "$rel/.berth/compose-files" || echo ".berth/pins.yml" >>"$rel/.berth/compose-files"
ln -sfn "releases/$RELEASE" current.new
mv -Tf current.new current
status=deployed
`;
