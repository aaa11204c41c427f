# Turns a deployment template into a manifest az accepts:
#   jq --arg image REGISTRY/azureiotsecurity:0.1.0-amd64 -f stringify.jq deployment.template.json > deployment.json
# It replaces the image placeholder and writes every createOptions object
# as a JSON string cut into the 512-character chunks edgeAgent reads back
# (createOptions, createOptions01 … createOptions07), as iotedgedev does.
def chunks($s): [range(0; $s | length; 512)] | to_entries
  | map({key: (if .key == 0 then "createOptions" else "createOptions" + (if .key < 10 then "0" else "" end) + (.key | tostring) end),
         value: $s[.value:.value + 512]})
  | from_entries;
walk(
  if type == "string" and . == "${MODULES.azureiotsecurity}" then $image
  elif type == "object" and (.createOptions | type) == "object"
  then (.createOptions | tojson) as $s | del(.createOptions) + chunks($s)
  else . end
)
| del(."$schema-template")
