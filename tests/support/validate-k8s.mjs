// Validates Kubernetes objects offline against the API schemas (kubernetes-models, and
// @kubernetes-models/prometheus-operator for its kinds). ESM-only packages, so a child process:
// reads a JSON array of objects on stdin, prints [{kind, name, error}] (error null when valid).
const GROUPS = { "monitoring.coreos.com": "@kubernetes-models/prometheus-operator/monitoring.coreos.com" };

async function validate(obj) {
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
  const base = GROUPS[group] ?? (group === "" ? "kubernetes-models" : `kubernetes-models/${group}`);
  let Model;
  try {
    Model = (await import(`${base}/${version}/${obj.kind}`))[obj.kind];
  } catch {
    return `no schema for ${obj.apiVersion} ${obj.kind}`;
  }
  try {
    new Model(obj).validate();
    return null;
  } catch (err) {
    return String(err.message ?? err);
  }
}

let text = "";
for await (const chunk of process.stdin) text += chunk;
const out = [];
for (const obj of JSON.parse(text)) out.push({ kind: obj.kind, name: obj.metadata?.name, error: await validate(obj) });
process.stdout.write(JSON.stringify(out));
