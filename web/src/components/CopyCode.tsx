// A voucher code on one line, with a button that copies it.

import { useEffect, useState } from "react";

export function CopyCode({ code, label }: { code: string; label: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state === "idle") return undefined;
    const timer = setTimeout(() => setState("idle"), 2_500);
    return () => clearTimeout(timer);
  }, [state]);
  const copy = () => {
    navigator.clipboard.writeText(code).then(
      () => setState("copied"),
      () => setState("failed"),
    );
  };
  return (
    <span className="code-line">
      <code className="code">{code}</code>
      <button
        type="button"
        className="link copy"
        onClick={copy}
        aria-label={`Copy code for ${label}`}
      >
        Copy code
      </button>
      <span className="copy-state" role="status">
        {state === "copied" ? "Copied" : state === "failed" ? "Select the code to copy it" : ""}
      </span>
    </span>
  );
}
