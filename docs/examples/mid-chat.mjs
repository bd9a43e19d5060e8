// Mid-chat login, end to end against a local Parley with its demo brand (./build.sh run):
//   node --experimental-websocket docs/examples/mid-chat.mjs
// An anonymous visitor asks the bot for a statement copy; the bot sends a login link; the visitor
// logs in at the demo brand (authorization code flow); the messenger hands Parley the code and the
// same conversation continues, authenticated. At the end the visitor closes the conversation
// (without printing it), so the demo is left as it was: run again, Grace has no open conversation
// on d3 for the login to merge into. docs/authentication.md shows its output; DocsExamplesTests
// runs it and compares the two.
const base = process.env.PARLEY_URL ?? "http://localhost:5080";
const deploymentId = "7a3c0000-0000-4000-8000-0000000000d3"; // the demo bank's code-flow deployment

const session = await (await fetch(`${base}/api/v1/sessions`, {
  method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ deploymentId }),
})).json();
console.log(`anonymous session: authenticated=${session.authenticated}`);

// Frames are printed when the script takes them, in the order it waits for them, so the output is
// the same on every run (the bot's answer and the session frame, for one, may come in either order).
const socket = new WebSocket(`${base.replace(/^http/, "ws")}/ws/consumer?deploymentId=${deploymentId}`);
const waiting = [];
const inbox = [];
socket.onmessage = (e) => {
  const frame = JSON.parse(e.data);
  const i = waiting.findIndex((w) => w.match(frame));
  if (i >= 0) waiting.splice(i, 1)[0].resolve(frame); else inbox.push(frame);
};
const send = (frame) => socket.send(JSON.stringify(frame));
const show = (frame) => frame.type === "message" ? `${frame.message.senderRole} ${frame.message.kind} "${frame.message.text}"`
  : frame.type === "error" ? `error ${frame.code}: ${frame.message}` : frame.type;
const expect = async (match) => {
  const i = inbox.findIndex(match);
  const frame = i >= 0 ? inbox.splice(i, 1)[0] : await new Promise((resolve) => waiting.push({ match, resolve }));
  console.log(`<= ${show(frame)}`);
  return frame;
};
const message = (role, kind, text) => (f) => f.type === "message" && f.message.senderRole === role && f.message.kind === kind
  && (typeof text === "string" ? f.message.text === text : text.test(f.message.text));
await new Promise((r) => (socket.onopen = r));
send({ type: "auth", token: session.visitorToken });
await expect((f) => f.type === "ready");
send({ type: "conversation.start" });
const conversationId = (await expect((f) => f.type === "conversation")).conversation.id;
send({ type: "conversation.subscribe", conversationId, since: 0 });
await expect(message("bot", "text", /^Hi!/)); // the greeting, replayed from seq 1
await expect((f) => f.type === "subscribed");
send({ type: "message.send", conversationId, clientMessageId: "ask-1", text: "Can I have a statement copy?" });
await expect(message("consumer", "text", "Can I have a statement copy?"));
await expect((f) => f.type === "message.ack");
await expect(message("bot", "text", /^To help with/));
const link = (await expect(message("bot", "event", "authentication.requested"))).message.data.url;
console.log(`login link: ${link.slice(0, link.indexOf("?"))}?response_type=…&state=…&nonce=…&code_challenge=…`);

// The visitor's browser: log in at the brand, then follow the authorization request back to Parley.
const login = await fetch(`${base}/demo-brand/login`, {
  method: "POST", redirect: "manual",
  body: new URLSearchParams({ username: "grace", password: "parley-demo", return: "/demo-brand" }),
});
const cookie = login.headers.get("set-cookie").split(";")[0];
const back = new URL((await fetch(link, { redirect: "manual", headers: { cookie } })).headers.get("location"));
console.log(`brand redirected to ${back.origin}${back.pathname}?code=…&state=…`);

// Parley's callback page would post these to the messenger; the messenger sends them with its own token.
send({ type: "conversation.authenticate", conversationId, state: back.searchParams.get("state"), code: back.searchParams.get("code") });
const refused = inbox.find((f) => f.type === "error");
if (refused) throw new Error(show(refused));
await expect(message("system", "event", "authentication.upgraded"));
await expect((f) => f.type === "conversation" && f.conversation.authenticated);
const upgraded = await expect((f) => f.type === "session" || f.type === "error");
await expect(message("bot", "text", /^Your statement/));
console.log(`session frame: authenticated=${upgraded.authenticated}, conversation authenticated=${upgraded.conversation?.authenticated}`);
await new Promise((r) => setTimeout(r, 200));
for (const frame of inbox.splice(0)) console.log(`<= (unexpected) ${show(frame)}`);

// Leave the demo as it was: the visitor closes the conversation (not printed).
send({ type: "conversation.close", conversationId: upgraded.conversation.id });
await new Promise((resolve) => waiting.push({ match: (f) => f.type === "conversation" && f.conversation.status === "closed", resolve }));
socket.close(1000);
