import { DeviceStorage } from '../src/storage';

/** localStorage in memory. */
export class MemoryStorage {
  private readonly items = new Map<string, string>();
  getItem(key: string) { return this.items.get(key) ?? null; }
  setItem(key: string, value: string) { this.items.set(key, value); }
  removeItem(key: string) { this.items.delete(key); }
  get size() { return this.items.size; }
}

export function memoryDevice(memory = new MemoryStorage()): DeviceStorage {
  return new DeviceStorage('parley.d.', () => memory as unknown as Storage);
}
