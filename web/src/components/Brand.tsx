// Herald's name and mark, in the header and, larger, on the sign-in page.

export function Brand({ large = false }: { large?: boolean }) {
  return (
    <div className={large ? "brand brand-large" : "brand"}>
      <span className="logo" aria-hidden="true">
        H
      </span>
      Herald
    </div>
  );
}
