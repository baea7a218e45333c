// A table's column headers: numbers aligned right, and names only screen readers need
// (a status dot, a row's actions) kept out of sight.

export interface Column {
  label: string;
  numeric?: boolean;
  hidden?: boolean;
}

export function TableHead({ columns }: { columns: Column[] }) {
  return (
    <thead>
      <tr>
        {columns.map((column) => (
          <th key={column.label} scope="col" className={column.numeric ? "numeric" : undefined}>
            {column.hidden ? <span className="visually-hidden">{column.label}</span> : column.label}
          </th>
        ))}
      </tr>
    </thead>
  );
}
