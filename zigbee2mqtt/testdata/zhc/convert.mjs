// Reads a JSON list of cases on stdin and writes, for each, what
// zigbee-herdsman-converters makes of it:
//   {"fz": NAME, "data": {...}, "options": {...}}   a fromZigbee converter's output
//   {"tz": NAME, "key": K, "value": V}              the Zigbee commands convertSet sends
//   {"tzGet": NAME, "key": K, "message": {...}}     the Zigbee commands convertGet sends
// The definition's meta is the Kwikset one (pinCodeCount 30). An error is {"error": text}.
import fz from "zigbee-herdsman-converters/converters/fromZigbee";
import tz from "zigbee-herdsman-converters/converters/toZigbee";

const input = await new Promise((resolve) => {
  let s = "";
  process.stdin.on("data", (d) => (s += d));
  process.stdin.on("end", () => resolve(s));
});

const out = [];
for (const c of JSON.parse(input)) {
  const calls = [];
  const entity = {
    command: async (cluster, command, payload) => calls.push({ cluster, command, payload: bufferless(payload) }),
    read: async (cluster, attributes) => calls.push({ cluster, read: attributes }),
    getDevice: () => ({}),
  };
  const meta = { mapped: { meta: { pinCodeCount: 30 }, model: "99140-031" }, message: c.message ?? {}, options: {}, state: {}, device: {} };
  try {
    if (c.fz) out.push(fz[c.fz].convert({ meta: {} }, { data: c.data }, () => {}, c.options ?? {}, meta) ?? {});
    else if (c.tz) { await tz[c.tz].convertSet(entity, c.key, c.value, meta); out.push(calls); }
    else { await tz[c.tzGet].convertGet(entity, c.key, meta); out.push(calls); }
  } catch (e) {
    out.push({ error: String(e.message ?? e) });
  }
}
process.stdout.write(JSON.stringify(out));

// bufferless turns Buffers (an empty pincodevalue) into strings, for JSON.
function bufferless(p) {
  const o = {};
  for (const [k, v] of Object.entries(p)) o[k] = Buffer.isBuffer(v) ? v.toString() : v;
  return o;
}
