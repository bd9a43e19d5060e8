import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clientFrameMembers, serverFrameMembers, viewMembers } from '../src/members';

/**
 * The frame types against the server's records: protocol/frames.schema.json is exported from them
 * by FrameSchemaTests (which fails when it is out of date); here every frame and member of the
 * schema must be in members.ts with the same spec, and the compiler holds members.ts to frames.ts.
 */

type Schema = boolean | { [key: string]: any };
const document = JSON.parse(readFileSync(new URL('../protocol/frames.schema.json', import.meta.url), 'utf8'));
const update = 'The frames in protocol/frames.schema.json (the server\'s records) and src/members.ts differ: change src/frames.ts and src/members.ts '
  + 'to match the schema (the compiler then checks one against the other). If the schema is stale, rewrite it first: '
  + 'PARLEY_UPDATE_SCHEMA=1 dotnet test tests/Parley.Server.Tests --filter FullyQualifiedName~FrameSchemaTests.';

function resolve(node: Schema): Schema {
  if (typeof node === 'object' && typeof node.$ref === 'string') {
    const target = (node.$ref as string).slice(2).split('/').reduce((at: any, key) => at[key.replace(/~1/g, '/').replace(/~0/g, '~')], document);
    return resolve(target);
  }
  return node;
}

/** The spec (see members.ts) of a schema node. */
function specOf(raw: Schema): string {
  const node = resolve(raw);
  if (node === true || (typeof node === 'object' && node.type === undefined && node.properties === undefined)) {
    return 'json';
  }
  if (node === false) {
    return 'never';
  }
  const types: string[] = Array.isArray(node.type) ? node.type : [node.type];
  const nullable = types.includes('null') ? '|null' : '';
  // Numbers may also be read from strings (web defaults): they are numbers.
  const type = types.includes('integer') ? 'integer' : types.includes('number') ? 'number' : types.find((t) => t !== 'null');
  switch (type) {
    case 'string': return (node.format === 'uuid' || node.format === 'date-time' ? node.format : 'string') + nullable;
    case 'array': return `${specOf(node.items)}[]${nullable}`;
    case 'object': {
      if (!node.properties) {
        return (resolve(node.additionalProperties ?? true) !== true && specOf(node.additionalProperties) === 'string' ? 'record<string>' : 'json') + nullable;
      }
      const members = membersOf(node);
      const view = Object.entries(viewMembers).find(([, known]) => equal(known, members));
      return (view ? view[0] : `{ ${Object.entries(members).map(([k, v]) => `${k}: ${v}`).join(', ')} }`) + nullable;
    }
    default: return String(type) + nullable;
  }
}

function membersOf(node: { [key: string]: any }): Record<string, string> {
  const required = new Set<string>(node.required ?? []);
  const members: Record<string, string> = {};
  for (const [name, member] of Object.entries<Schema>(node.properties ?? {})) {
    if (name !== 'type') {
      members[name] = (required.has(name) ? '' : '?') + specOf(member);
    }
  }
  return sorted(members);
}

function framesOf(side: 'ClientFrame' | 'ServerFrame'): Record<string, Record<string, string>> {
  const frames: Record<string, Record<string, string>> = {};
  for (const frame of document.$defs[side].anyOf) {
    frames[frame.properties.type.const] = membersOf(frame);
  }
  return sortedFrames(frames);
}

const sorted = (members: Record<string, string>) => Object.fromEntries(Object.entries(members).sort(([a], [b]) => (a < b ? -1 : 1)));
const sortedFrames = (frames: Record<string, Record<string, string>>) =>
  Object.fromEntries(Object.entries(frames).map(([type, members]) => [type, sorted(members)]).sort(([a], [b]) => (a < b ? -1 : 1)));
const equal = (a: Record<string, string>, b: Record<string, string>) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));

describe('the frame types and the server\'s frame records', () => {
  it('have the same client frames, each with the same members', () => {
    expect(sortedFrames(clientFrameMembers), update).toEqual(framesOf('ClientFrame'));
  });

  it('have the same server frames, each with the same members (views included)', () => {
    expect(sortedFrames(serverFrameMembers), update).toEqual(framesOf('ServerFrame'));
  });

  it('describe each view the server frames carry', () => {
    const carried = new Set(Object.values(serverFrameMembers).flatMap((m) => Object.values<string>(m)).map((s) => s.replace(/^\?|\[\]|\|null$/g, '')));
    expect([...carried].filter((s) => s in viewMembers).sort()).toEqual(Object.keys(viewMembers).sort());
  });

  it('compile: the member lists fit frames.ts (tsc --noEmit)', () => {
    const tsc = new URL('../node_modules/typescript/bin/tsc', import.meta.url).pathname;
    let errors = '';
    try {
      execFileSync(process.execPath, [tsc, '--noEmit', '-p', new URL('..', import.meta.url).pathname], { stdio: 'pipe' });
    } catch (error) {
      errors = String((error as { stdout?: Buffer }).stdout ?? error);
    }
    expect(errors, 'src/members.ts does not fit src/frames.ts').toBe('');
  }, 60_000);
});
