/** New-message notifications while the agent looks elsewhere: a count in the tab's title and a short tone. */

const baseTitle = 'Parley';

export function setUnreadTitle(unread: number): void {
  document.title = unread > 0 ? `(${unread}) ${baseTitle}` : baseTitle;
}

let audio: AudioContext | null = null;

/** A short two-note chime made with Web Audio (no media file, nothing fetched). */
export function chime(): void {
  try {
    audio ??= new AudioContext();
    const now = audio.currentTime;
    for (const [offset, frequency] of [[0, 880], [0.12, 1175]] as const) {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, now + offset);
      gain.gain.exponentialRampToValueAtTime(0.15, now + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.25);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(now + offset);
      oscillator.stop(now + offset + 0.3);
    }
    (window as unknown as { parleyChimes?: number }).parleyChimes = ((window as unknown as { parleyChimes?: number }).parleyChimes ?? 0) + 1;
  } catch {
    // No audio device, or the browser blocks audio before a user gesture: the title still counts.
  }
}
