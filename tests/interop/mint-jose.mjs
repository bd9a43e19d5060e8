// Mints tokens with the npm "jose" package (an implementation independent of Parley's) and prints
// them as JSON for Parley.Identity.Tests: valid ones, tampered ones, and the keys to check them with.
import * as jose from "jose";

const issuer = "https://idp.interop.example";
const audience = "parley-interop";
const now = Math.floor(Date.now() / 1000);
const claims = { sub: "interop-user", given_name: "Grace", email: "grace@example.com", lwicontexts: JSON.stringify({ msdyn_isvip: "true" }) };

const signers = [
  { alg: "RS256", kid: "rs", gen: () => jose.generateKeyPair("RS256", { extractable: true }) },
  { alg: "PS256", kid: "ps", gen: () => jose.generateKeyPair("PS256", { extractable: true }) },
  { alg: "ES256", kid: "es256", gen: () => jose.generateKeyPair("ES256", { extractable: true }) },
  { alg: "ES384", kid: "es384", gen: () => jose.generateKeyPair("ES384", { extractable: true }) },
];

const sign = (alg, kid, key, extra = {}) =>
  new jose.SignJWT({ ...claims, ...extra })
    .setProtectedHeader({ alg, kid, typ: "JWT" })
    .setIssuer(issuer).setAudience(audience).setIssuedAt(now).setExpirationTime(now + 600)
    .sign(key);

// Replaces the payload but keeps the signature: a forgery every verifier must catch.
const tamper = (token) => {
  const [h, , s] = token.split(".");
  const payload = jose.base64url.encode(JSON.stringify({ ...claims, sub: "admin", iss: issuer, aud: audience, exp: now + 600 }));
  return `${h}.${payload}.${s}`;
};

const keys = [];
const tokens = [];
for (const { alg, kid, gen } of signers) {
  const { publicKey, privateKey } = await gen();
  keys.push({ ...(await jose.exportJWK(publicKey)), kid, alg, use: "sig" });
  const token = await sign(alg, kid, privateKey);
  tokens.push({ name: alg, token, valid: true }, { name: `${alg}-tampered`, token: tamper(token), valid: false });
}

const secret = crypto.getRandomValues(new Uint8Array(32));
const hs = await sign("HS256", "hs", secret);
tokens.push({ name: "HS256", token: hs, valid: true }, { name: "HS256-tampered", token: tamper(hs), valid: false });

// Nested: an RS256 token encrypted to Parley's key with RSA-OAEP-256 + A256GCM.
const parley = await jose.generateKeyPair("RSA-OAEP-256", { extractable: true, modulusLength: 2048 });
const nestedSigner = await jose.generateKeyPair("RS256", { extractable: true });
keys.push({ ...(await jose.exportJWK(nestedSigner.publicKey)), kid: "nested", alg: "RS256", use: "sig" });
const inner = await sign("RS256", "nested", nestedSigner.privateKey);
const nested = await new jose.CompactEncrypt(new TextEncoder().encode(inner))
  .setProtectedHeader({ alg: "RSA-OAEP-256", enc: "A256GCM", cty: "JWT" })
  .encrypt(parley.publicKey);
const parts = nested.split(".");
const flipped = parts[3].startsWith("A") ? "B" + parts[3].slice(1) : "A" + parts[3].slice(1);
tokens.push(
  { name: "RSA-OAEP-256+A256GCM(RS256)", token: nested, valid: true },
  { name: "RSA-OAEP-256+A256GCM-tampered", token: [parts[0], parts[1], parts[2], flipped, parts[4]].join("."), valid: false },
  { name: "RSA-OAEP-256+A256GCM(unsigned)", token: await new jose.CompactEncrypt(new TextEncoder().encode(JSON.stringify({ ...claims, iss: issuer, aud: audience, exp: now + 600 })))
      .setProtectedHeader({ alg: "RSA-OAEP-256", enc: "A256GCM", cty: "JWT" }).encrypt(parley.publicKey), valid: false },
);

process.stdout.write(JSON.stringify({
  issuer,
  audience,
  jwks: { keys },
  hmacSecret: jose.base64url.encode(secret),
  decryptionKeyPem: await jose.exportPKCS8(parley.privateKey),
  tokens,
}));
