// New items, briefly, in the corner; the live region beside them tells screen readers.

import type { Toasts as ToastState } from "./useToasts";

export function Toasts({ toasts }: { toasts: ToastState }) {
  return (
    // A named region: everything on the page sits in a landmark.
    <section className="toasts" aria-label="New items" data-testid="toasts">
      {toasts.toasts.map((toast) => (
        <div
          key={toast.key}
          className="toast"
          data-testid="toast"
          onMouseEnter={() => toasts.hold(toast.key, true)}
          onMouseLeave={() => toasts.hold(toast.key, false)}
          onFocus={() => toasts.hold(toast.key, true)}
          onBlur={() => toasts.hold(toast.key, false)}
        >
          <span className="toast-text">{toast.text}</span>
          {toast.href && (
            <a href={toast.href} className="toast-link">
              Open
            </a>
          )}
          <button
            type="button"
            className="link toast-close"
            aria-label={`Dismiss: ${toast.text}`}
            onClick={() => toasts.dismiss(toast.key)}
          >
            ×
          </button>
        </div>
      ))}
    </section>
  );
}
