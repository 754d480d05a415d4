// A form field's limits, read from the JSON schema of the model that validates it (the page embeds
// the schemas of the hall's settings, departments, items and windows: dashboard/forms.py). The
// page writes no limit of its own: the server's models are the one place they are set.

// Follow a local "$ref", and look through `X | None` (anyOf with null), noting that null is allowed.
function resolve(root, node) {
  let nullable = false;
  for (;;) {
    if (node && node.$ref) node = root.$defs[node.$ref.split("/").at(-1)];
    else if (node && node.anyOf) {
      const some = node.anyOf.filter((n) => n.type !== "null");
      nullable = nullable || some.length < node.anyOf.length;
      if (some.length !== 1) return { node: {}, nullable };
      node = some[0];
    } else return { node: node || {}, nullable };
  }
}

// {min, max, pattern, minLength, maxLength, required, nullable} of a dotted path ("voice.repeat");
// a key is absent when the model sets no such limit. `required` holds when every step is required.
export function limits(root, path) {
  if (!root) return {};
  let node = root;
  let required = true;
  let nullable = false;
  for (const part of path.split(".")) {
    const parent = resolve(root, node).node;
    required = required && (parent.required || []).includes(part);
    if (!parent.properties || !(part in parent.properties)) return {};
    ({ node, nullable } = resolve(root, parent.properties[part]));
  }
  const out = { required, nullable };
  for (const [from, to] of [["minimum", "min"], ["maximum", "max"], ["pattern", "pattern"], ["minLength", "minLength"], ["maxLength", "maxLength"]]) {
    if (node[from] !== undefined) out[to] = node[from];
  }
  return out;
}

const NUMERIC = new Set(["number", "numbers"]);

// The form's field specs ({path, kind, …}) with their limits; an empty number is sent as null
// where the model takes null (else it is left out, and the model's default applies).
export function withLimits(specs, schema) {
  return specs.map((spec) => {
    const { nullable, ...own } = limits(schema, spec.path);
    return { ...spec, ...own, optional: NUMERIC.has(spec.kind) && Boolean(nullable) };
  });
}
