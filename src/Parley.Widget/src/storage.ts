/**
 * The widget's device storage (localStorage of the page's origin), namespaced per deployment.
 * Storage can be unavailable (private modes, blocked third-party storage): then the widget works
 * for the page's lifetime and simply does not remember.
 */
export class DeviceStorage {
  constructor(private readonly prefix: string, private readonly area: () => Storage = () => window.localStorage) {}

  get<T>(key: string): T | null {
    try {
      const raw = this.area().getItem(this.prefix + key);
      return raw === null ? null : (JSON.parse(raw) as T);
    } catch {
      return null;
    }
  }

  set(key: string, value: unknown): void {
    try {
      if (value === null || value === undefined) {
        this.area().removeItem(this.prefix + key);
      } else {
        this.area().setItem(this.prefix + key, JSON.stringify(value));
      }
    } catch {
      // Not remembered; nothing else depends on it.
    }
  }
}
