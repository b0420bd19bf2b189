// The real zwave-js driver and zwave-js-server, over zwave-js's in-process mock controller,
// with a mock Kwikset lock: what Latchkey's zwavejs tests talk to (docs/protocols.md §1.7.2).
//
//   node harness.js [--port N] [--control-port N]
//
// When ready it prints one line, and nothing else on stdout:
//   {"ready":true,"ws":"ws://127.0.0.1:PORT","control":"http://127.0.0.1:PORT","nodeId":2,...}
// Port 0 (the default) picks free ports. The control channel (HTTP, POST with a JSON body)
// makes the lock do what a person at the door, or the radio, would:
//   /keypad-unlock {slot}   /keypad-lock {slot}   /manual-unlock   /manual-lock   /auto-lock
//   /wrong-code             /lockout              /jam             /tamper
//   /low-battery {level}    /battery {level}      /code-added {slot, code}   /code-deleted {slot}
//   /all-codes-deleted      /reset-locally        /dead              /alive
//   /restart-server {downMs}   (the WebSocket server goes away and comes back; the lock keeps its codes)
//   /server-down  /server-up   (the same, in two steps)
//   /include                (a new lock, node 3, is ready to join when inclusion starts)
//   /exclude-ready          (the lock leaves the network when exclusion starts)
//   GET /slot?slot=N[&node=3]  (what a lock holds, for tests: {"status":..,"code":..})
// The harness stops on SIGTERM or SIGINT, or when stdin closes (its parent went away).
"use strict";

const fs = require("node:fs");
const http = require("node:http");
const os = require("node:os");
const path = require("node:path");

const { createAndStartDriverWithMockPort, createDefaultMockControllerBehaviors, createDefaultMockNodeBehaviors } =
	require("zwave-js/Testing");
const { MockController, MockNode, ccCaps, createMockZWaveRequestFrame, getDefaultSupportedFunctionTypes } =
	require("@zwave-js/testing");
const { FunctionType, Message, MessageType } = require("@zwave-js/serial");
const { CommandClasses } = require("@zwave-js/core");
const cc = require("@zwave-js/cc");
const serialapi = require("@zwave-js/serial/serialapi");
const { ZwavejsServer } = require("@zwave-js/server");

const LOCK_NODE_ID = 2;
const NUM_USERS = 30;
// Kwikset (0x0090) SmartCode 912, product type 0x0003 / id 0x0339 (catalog/data/models.yaml).
const KWIKSET = { manufacturerId: 0x0090, productType: 0x0003, productId: 0x0339 };

function arg(name, fallback) {
	const i = process.argv.indexOf(name);
	if (i < 0) return fallback;
	const n = Number(process.argv[i + 1]);
	if (!Number.isInteger(n) || n < 0 || n > 65535) {
		console.error(`${name} takes a port number, 0 for any free one`);
		process.exit(2);
	}
	return n;
}

// Every log line goes to stderr: stdout carries the ready line only.
const log = (...a) => console.error("[harness]", ...a);

function lockCapabilities() {
	return {
		...KWIKSET,
		firmwareVersion: "4.2",
		genericDeviceClass: 0x40, // Entry Control
		specificDeviceClass: 0x03, // Secure Keypad Door Lock
		isListening: false,
		isFrequentListening: "1000ms",
		commandClasses: [
			ccCaps({ ccId: CommandClasses.Version, version: 3 }),
			ccCaps({ ccId: CommandClasses["Manufacturer Specific"], version: 2 }),
			ccCaps({ ccId: CommandClasses["Door Lock"], version: 4 }),
			ccCaps({
				ccId: CommandClasses["User Code"],
				version: 2,
				numUsers: NUM_USERS,
				supportsUserCodeChecksum: true,
				supportsAdminCode: false,
				supportsAdminCodeDeactivation: false,
			}),
			ccCaps({
				ccId: CommandClasses.Notification,
				version: 8,
				supportsV1Alarm: false,
				notificationTypesAndEvents: {
					6: [1, 2, 3, 4, 5, 6, 9, 11, 12, 13, 14, 15, 16],
					7: [3, 4],
					8: [10, 11],
				},
			}),
			ccCaps({ ccId: CommandClasses.Battery, version: 1 }),
			ccCaps({ ccId: CommandClasses["Device Reset Locally"], version: 1 }),
		],
	};
}

// Battery: the mocks have no Battery CC behavior (protocols.md §1.7.1); a lock answers a
// Battery Get with its level, kept in the node's state.
const BATTERY_LEVEL = "Battery_level";
const respondToBatteryGet = {
	handleCC(controller, self, received) {
		if (received instanceof cc.BatteryCCGet) {
			const level = self.state.get(BATTERY_LEVEL) ?? 90;
			return {
				action: "sendCC",
				cc: new cc.BatteryCCReport({ nodeId: controller.ownNodeId, level, isLow: level <= 20 }),
			};
		}
	},
};

// Notification Get: the mocks answer only the Supported Gets, and the interview asks each
// type's status once (3 × the report timeout lost otherwise). Nothing pending: idle.
const respondToNotificationGet = {
	handleCC(controller, self, received) {
		if (received instanceof cc.NotificationCCGet && received.notificationType != undefined) {
			return {
				action: "sendCC",
				cc: new cc.NotificationCCReport({
					nodeId: controller.ownNodeId,
					notificationType: received.notificationType,
					notificationEvent: 0,
				}),
			};
		}
	},
};

// Like a Kwikset, the lock refuses a code it already holds in another slot, saying so with
// Access Control event 0x0F (facts §3.2); the mock behaviors would store it.
const userCodeKey = (slot) => `UserCode_userCode_${slot}`;
const userStatusKey = (slot) => `UserCode_userIdStatus_${slot}`;
function duplicateOf(self, slot, code) {
	if (!code) return 0;
	for (let i = 1; i <= NUM_USERS; i++) {
		if (i !== slot && self.state.get(userStatusKey(i)) && self.state.get(userCodeKey(i)) === code) return i;
	}
	return 0;
}
const refuseDuplicateCodes = {
	handleCC(controller, self, received) {
		let sets = [];
		if (received instanceof cc.UserCodeCCSet) sets = [received];
		else if (received instanceof cc.UserCodeCCExtendedUserCodeSet) sets = received.userCodes;
		const dup = sets.find((s) => s.userIdStatus && s.userIdStatus !== 0xfe && duplicateOf(self, s.userId, s.userCode));
		if (!dup) return undefined; // the default behaviors store it
		setTimeout(() => void notify(6, 15, [dup.userId], self), 20);
		return { action: "ok" };
	},
};

// A lock that is dead (out of batteries, out of range) hears nothing and acks nothing.
let dead = false;
const deafWhenDead = {
	handleCC() {
		return dead ? { action: "stop" } : undefined;
	},
};

// Device Reset Locally: zwave-js pings the node, then asks the controller to remove it as a
// failed node (protocols.md §1.6). The mock controller has no RemoveFailedNode (§1.7.3):
// this one removes a node that no longer answers, as a real controller does.
const handleRemoveFailedNode = {
	async onHostMessage(controller, msg) {
		if (!(msg instanceof serialapi.RemoveFailedNodeRequest)) return undefined;
		const node = controller.nodes.get(msg.failedNodeId);
		const failed = node && resetNodes.has(node.id);
		// zwave-js parses these two messages but cannot write them: they are written raw.
		const raw = (type, payload) =>
			controller.sendMessageToHost(new Message({ type, functionType: FunctionType.RemoveFailedNode, payload: Uint8Array.from(payload) }));
		const flags = serialapi.RemoveFailedNodeStartFlags;
		await raw(MessageType.Response, [failed ? flags.OK : flags.RemoveFailed]);
		if (!failed) return true;
		await new Promise((r) => setTimeout(r, 20));
		controller.removeNode(node);
		await raw(MessageType.Request, [msg.callbackId, serialapi.RemoveFailedNodeStatus.NodeRemoved]);
		return true;
	},
};
const resetNodes = new Set();

// Exclusion: the mock controller starts it but no node ever leaves. A lock that is
// ready to leave (/exclude-ready: a person pressed its button) does, as on a real
// network: node found, removing, done.
let nodePendingExclusion;
let exclusionEnding = false;
const handleExclusionOfReadyNode = {
	async onHostMessage(controller, msg) {
		if (!(msg instanceof serialapi.RemoveNodeFromNetworkRequest)) return undefined;
		if (msg.removeNodeType === serialapi.RemoveNodeType.Stop && exclusionEnding) {
			exclusionEnding = false; // zwave-js stops, without a callback, once it is done
			return true;
		}
		const node = nodePendingExclusion;
		if (!node || msg.removeNodeType === serialapi.RemoveNodeType.Stop) return undefined;
		nodePendingExclusion = undefined;
		const report = (status, extra) =>
			controller.sendMessageToHost(
				new serialapi.RemoveNodeFromNetworkRequestStatusReport({ callbackId: msg.callbackId, status, ...extra }),
			);
		await report(serialapi.RemoveNodeStatus.Ready);
		setTimeout(async () => {
			await report(serialapi.RemoveNodeStatus.NodeFound);
			await report(serialapi.RemoveNodeStatus.RemovingSlave, { nodeId: node.id });
			controller.removeNode(node);
			exclusionEnding = true;
			await report(serialapi.RemoveNodeStatus.Done);
		}, 50);
		return true;
	},
};

// The mock Door Lock keeps its bolt here; what a person does at the door moves it too.
const BOLT = "DoorLock_currentMode";
const SECURED = 0xff;
const UNSECURED = 0x00;
const bolt = (mode, frame) => async () => {
	lockNode.state.set(BOLT, mode);
	await frame();
};

const mockNodes = new Map(); // by node id, for /slot

let driver, controller, lockNode, server, wsPort, tmpDir;

async function send(frameCC, node = lockNode) {
	await node.sendToController(createMockZWaveRequestFrame(frameCC, { ackRequested: false }));
}

function notify(type, event, params, node = lockNode) {
	return send(
		new cc.NotificationCCReport({
			nodeId: controller.ownNodeId,
			notificationType: type,
			notificationEvent: event,
			eventParameters: params ? Uint8Array.from(params) : undefined,
		}),
		node,
	);
}

// A User Code report as an event parameter: zwave-js turns it into {userId}.
const userParam = (slot) => [slot];

function slotArg(body) {
	const slot = Number(body.slot);
	if (!Number.isInteger(slot) || slot < 1 || slot > NUM_USERS) throw new Error(`slot must be 1 to ${NUM_USERS}`);
	return slot;
}

const serverLogger = {
	error: (m, e) => log("server:", m instanceof Error ? m.message : m, e ? e.message : ""),
	warn: (m) => log("server:", m),
	info: () => {},
	debug: () => {},
};

// freePort asks the system for a port nobody listens on (the server takes 0 as "default").
function freePort() {
	return new Promise((resolve, reject) => {
		const s = require("node:net").createServer();
		s.once("error", reject);
		s.listen(0, "127.0.0.1", () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

// stopServer takes the WebSocket server away as a hub that stops would: every client
// connection ends. (zwave-js-server's destroy waits for its HTTP connections to end; a
// client that reconnects meanwhile would hold it open, so they are cut as they come.)
async function stopServer() {
	if (!server) return;
	const s = server;
	server = undefined;
	const web = s.server;
	const cut = setInterval(() => web?.closeAllConnections?.(), 20);
	try {
		await s.destroy();
	} finally {
		clearInterval(cut);
	}
}

async function startServer() {
	if (!wsPort) wsPort = await freePort();
	server = new ZwavejsServer(driver, { port: wsPort, host: "127.0.0.1", logger: serverLogger, enableDNSServiceDiscovery: false });
	await server.start(true);
}

const actions = {
	"/keypad-unlock": (b) => bolt(UNSECURED, () => notify(6, 6, userParam(slotArg(b))))(),
	"/keypad-lock": (b) => bolt(SECURED, () => notify(6, 5, userParam(slotArg(b))))(),
	"/manual-unlock": bolt(UNSECURED, () => notify(6, 2)),
	"/manual-lock": bolt(SECURED, () => notify(6, 1)),
	"/auto-lock": bolt(SECURED, () => notify(6, 9)),
	"/wrong-code": () => notify(7, 4), // Home Security: tampering, invalid code
	"/lockout": () => notify(6, 16), // Access Control: keypad temporarily disabled
	"/jam": () => notify(6, 11),
	"/tamper": () => notify(7, 3), // Home Security: tampering, product cover removed
	"/low-battery": async (b) => {
		lockNode.state.set(BATTERY_LEVEL, Number(b.level ?? 10));
		await notify(8, 10); // Power Management: replace battery soon
	},
	"/battery": async (b) => {
		const level = Number(b.level);
		if (!Number.isInteger(level) || level < 0 || level > 100) throw new Error("level must be 0 to 100");
		lockNode.state.set(BATTERY_LEVEL, level);
		await send(new cc.BatteryCCReport({ nodeId: controller.ownNodeId, level, isLow: level <= 20 }));
	},
	"/code-added": async (b) => {
		const slot = slotArg(b);
		lockNode.state.set(userStatusKey(slot), 1);
		lockNode.state.set(userCodeKey(slot), String(b.code ?? "0000"));
		await notify(6, 14, userParam(slot));
	},
	"/code-deleted": async (b) => {
		const slot = slotArg(b);
		lockNode.state.set(userStatusKey(slot), 0);
		lockNode.state.set(userCodeKey(slot), undefined);
		await notify(6, 13, userParam(slot));
	},
	"/all-codes-deleted": async () => {
		for (let i = 1; i <= NUM_USERS; i++) {
			lockNode.state.set(userStatusKey(i), 0);
			lockNode.state.set(userCodeKey(i), undefined);
		}
		await notify(6, 12);
	},
	"/reset-locally": async () => {
		// The lock forgets everything and leaves the network: it no longer answers.
		await send(new cc.DeviceResetLocallyCCNotification({ nodeId: controller.ownNodeId }));
		resetNodes.add(lockNode.id);
		lockNode.autoAckControllerFrames = false;
		dead = true;
	},
	"/dead": async () => {
		dead = true;
		lockNode.autoAckControllerFrames = false;
		// zwave-js notices a dead node when a command to it fails: ask it something.
		const n = driver.controller.nodes.get(LOCK_NODE_ID);
		await n?.ping().catch(() => false);
	},
	"/alive": async () => {
		dead = false;
		lockNode.autoAckControllerFrames = true;
		const level = lockNode.state.get(BATTERY_LEVEL) ?? 90;
		await send(new cc.BatteryCCReport({ nodeId: controller.ownNodeId, level, isLow: level <= 20 }));
	},
	"/restart-server": async (b) => {
		const down = Math.min(Math.max(Number(b.downMs ?? 0), 0), 30000);
		await stopServer();
		setTimeout(() => startServer().catch((e) => log("restart failed:", e.message)), down);
	},
	"/exclude-ready": async () => {
		nodePendingExclusion = controller.nodes.get(LOCK_NODE_ID);
		if (!nodePendingExclusion) throw new Error("the lock is not on the network");
	},
	"/server-down": stopServer,
	"/server-up": async () => {
		if (!server) await startServer();
	},
	"/include": async () => {
		// The lock paired again after a reset, or a new one: node 3, empty, bolt thrown.
		controller.nodePendingInclusion = {
			id: 3,
			capabilities: lockCapabilities(),
			setup: (node) => {
				node.state.set(BOLT, SECURED);
				node.defineBehavior(refuseDuplicateCodes, respondToBatteryGet, respondToNotificationGet);
				mockNodes.set(node.id, node);
			},
		};
	},
};

function control(req, res) {
	const reply = (status, body) => {
		res.writeHead(status, { "content-type": "application/json" });
		res.end(JSON.stringify(body));
	};
	const url = new URL(req.url, "http://x");
	if (req.method === "GET" && url.pathname === "/slot") {
		const slot = Number(url.searchParams.get("slot"));
		const node = mockNodes.get(Number(url.searchParams.get("node") ?? LOCK_NODE_ID));
		if (!node) return reply(404, { error: "no such node" });
		return reply(200, { status: node.state.get(userStatusKey(slot)) ?? 0, code: node.state.get(userCodeKey(slot)) ?? "" });
	}
	const act = actions[url.pathname];
	if (req.method !== "POST" || !act) return reply(404, { error: `no such action: ${req.method} ${url.pathname}` });
	let raw = "";
	req.on("data", (c) => {
		raw += c;
		if (raw.length > 4096) req.destroy();
	});
	req.on("end", async () => {
		try {
			await act((raw && JSON.parse(raw)) || {});
			reply(200, { ok: true });
		} catch (e) {
			reply(400, { error: e.message });
		}
	});
}

async function main() {
	wsPort = arg("--port", 0);
	const controlPort = arg("--control-port", 0);
	tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "latchkey-zwavejs-"));

	const started = await createAndStartDriverWithMockPort({
		storage: { cacheDir: tmpDir, lockDir: tmpDir },
		securityKeys: { S0_Legacy: Buffer.alloc(16, 0x0f) },
		testingHooks: { skipFirmwareIdentification: true },
		emitValueUpdateAfterSetValue: true,
		features: { softReset: false }, // the mock stick needs no reset: a second saved at every start
		logConfig: process.env.HARNESS_ZWAVE_LOG ? { enabled: true, level: "debug", forceConsole: true } : { enabled: false },
		timeouts: { report: 1000, ack: 1000, response: 2000 },
	});
	driver = started.driver;
	controller = await MockController.create({
		homeId: 0x7e570001,
		ownNodeId: 1,
		capabilities: { supportedFunctionTypes: [...getDefaultSupportedFunctionTypes(), FunctionType.RemoveFailedNode] },
		mockPort: started.mockPort,
		serial: started.serial,
	});
	controller.defineBehavior(...createDefaultMockControllerBehaviors());
	controller.defineBehavior(handleRemoveFailedNode, handleExclusionOfReadyNode);
	lockNode = await MockNode.create({ id: LOCK_NODE_ID, controller, capabilities: lockCapabilities() });
	controller.addNode(lockNode);
	lockNode.state.set(BOLT, SECURED); // the door starts locked
	mockNodes.set(lockNode.id, lockNode);
	// defineBehavior puts behaviors in front of those defined before: the first that
	// answers a command wins, so ours go after the defaults, the dead lock's first.
	lockNode.defineBehavior(...createDefaultMockNodeBehaviors());
	lockNode.defineBehavior(deafWhenDead, refuseDuplicateCodes, respondToBatteryGet, respondToNotificationGet);

	const ready = new Promise((resolve, reject) => {
		driver.once("driver ready", resolve);
		driver.once("error", reject);
	});
	const t0 = Date.now();
	started.continueStartup();
	await ready;
	log(`driver ready after ${Date.now() - t0} ms`);
	// The lock answers its interview before clients see it.
	const node = driver.controller.nodes.get(LOCK_NODE_ID);
	if (!node.ready) await new Promise((r) => node.once("ready", r));
	log(`lock interviewed after ${Date.now() - t0} ms`);
	await startServer();

	const ctl = http.createServer(control);
	await new Promise((r) => ctl.listen(controlPort, "127.0.0.1", r));
	const ready_line = {
		ready: true,
		ws: `ws://127.0.0.1:${wsPort}`,
		control: `http://127.0.0.1:${ctl.address().port}`,
		nodeId: LOCK_NODE_ID,
		...KWIKSET,
		numUsers: NUM_USERS,
		driverVersion: require("zwave-js/package.json").version,
		serverVersion: require("@zwave-js/server/package.json").version,
	};
	process.stdout.write(JSON.stringify(ready_line) + "\n");

	let stopping = false;
	const stop = async () => {
		if (stopping) return;
		stopping = true;
		ctl.close();
		await stopServer().catch(() => {});
		await driver.destroy().catch(() => {});
		fs.rmSync(tmpDir, { recursive: true, force: true });
		process.exit(0);
	};
	process.on("SIGTERM", stop);
	process.on("SIGINT", stop);
	process.stdin.on("end", stop);
	process.stdin.on("error", stop);
	process.stdin.resume();
}

main().catch((e) => {
	log("failed:", e && e.stack ? e.stack : e);
	if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
	process.exit(1);
});
