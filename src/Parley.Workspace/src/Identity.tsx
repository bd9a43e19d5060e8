/** The authenticated check mark (or the anonymous ring) shown next to a customer everywhere. */
export function Identity({ authenticated }: { authenticated: boolean }) {
  return authenticated
    ? <span className="mark verified" title="Authenticated" aria-label="Authenticated">✓</span>
    : <span className="mark anonymous" title="Anonymous" aria-label="Anonymous">○</span>;
}
