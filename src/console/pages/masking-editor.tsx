// The Data Masking tree: database → schema → table → column, with type,
// keys, detected sensitivity, the current rule and a function picker per
// column. Foreign-key columns cannot be picked (the API refuses them) and link
// to the key they reference; for developer and ci keys the project's rules are
// shown fixed, since those keys must keep them as they are.
import type { ColumnInfo, DatabaseCatalog, MaskingRule, TableInfo } from "../../masking/types.ts";
import type { SensitiveColumn } from "../../masking/sensitive.ts";
import { CsrfField } from "../layout.tsx";
import { columnKey, type ColumnRef, type Selection } from "../masking-form.ts";
import { choicesFor, customChoices, describeRule, NOT_MASKED, ruleExpression } from "../masking-functions.ts";

export interface EditorProps {
  databases: DatabaseCatalog[];
  sensitive: SensitiveColumn[];
  current: MaskingRule[];
  selections: Map<string, Selection>;
  /** Rules that must stay as they are (project rules, for developer and ci keys). */
  locked: MaskingRule[];
  editable: boolean;
  action: string;
  validateUrl: string;
  submitLabel: string;
  csrf: string;
  /** Messages of refused rules, by column key. */
  problems: Map<string, string[]>;
}

interface RowContext extends EditorProps {
  rowIds: Map<string, string>;
  sensitiveByKey: Map<string, SensitiveColumn>;
  currentByKey: Map<string, MaskingRule>;
  lockedByKey: Map<string, MaskingRule>;
}

const refOf = (database: string, t: TableInfo, column: string): ColumnRef => ({
  database_name: database, schema_name: t.schema, table_name: t.name, column_name: column,
});

function Badges({ table, column }: { table: TableInfo; column: ColumnInfo }) {
  const pk = table.primaryKey.includes(column.name);
  const unique = !pk && table.uniqueColumnSets.some((s) => s.length === 1 && s[0] === column.name);
  const fk = table.foreignKeys.some((f) => f.columns.includes(column.name));
  return (
    <>
      {pk ? <span class="badge">primary key</span> : null}
      {unique ? <span class="badge">unique</span> : null}
      {fk ? <span class="badge">foreign key</span> : null}
    </>
  );
}

function Picker({ n, column, where, selection, message }: { n: number; column: ColumnInfo; where: string; selection: Selection; message: string }) {
  const choices = choicesFor(column);
  const custom = selection.choice.startsWith("custom_");
  return (
    <>
      <label for={`fn-${n}`} class="visually-hidden">{`Masking of ${where}`}</label>
      <select id={`fn-${n}`} name={`fn.${n}`} data-picker aria-describedby={`msg-${n}`}>
        <option value={NOT_MASKED} selected={selection.choice === NOT_MASKED}>
          Not masked
        </option>
        {choices.map((c) => (
          <option value={c.id} data-kind={c.kind} data-expression={c.expression(column.name)} selected={selection.choice === c.id}>
            {c.label}
          </option>
        ))}
        {customChoices.map((c) => (
          <option value={c.id} data-kind={c.kind} selected={selection.choice === c.id}>
            {c.label}
          </option>
        ))}
      </select>
      <div class="custom" data-custom>
        <label for={`expr-${n}`}>{`Custom expression or constant for ${column.name}`}</label>
        <input
          id={`expr-${n}`}
          name={`expr.${n}`}
          type="text"
          class="expr"
          data-expr
          value={custom ? selection.expression : ""}
          spellcheck={false}
          autocomplete="off"
          aria-describedby={`msg-${n}`}
          aria-invalid={message && custom ? "true" : undefined}
        />
      </div>
      <p id={`msg-${n}`} class="message" data-message aria-live="polite" data-state={message ? "error" : ""}>
        {message}
      </p>
    </>
  );
}

function ColumnRow({ ctx, n, database, table, column }: { ctx: RowContext; n: number; database: string; table: TableInfo; column: ColumnInfo }) {
  const ref = refOf(database, table, column.name);
  const key = columnKey(ref);
  const where = `${table.name}.${column.name}`;
  const sens = ctx.sensitiveByKey.get(key);
  const current = ctx.currentByKey.get(key);
  const locked = ctx.lockedByKey.get(key);
  const fk = table.foreignKeys.find((f) => f.columns.includes(column.name));
  const refColumn = fk ? (fk.refColumns[fk.columns.indexOf(column.name)] ?? fk.refColumns[0] ?? "") : "";
  const refId = fk ? ctx.rowIds.get(columnKey({ database_name: database, schema_name: fk.refSchema, table_name: fk.refTable, column_name: refColumn })) : undefined;
  const message = (ctx.problems.get(key) ?? []).join("; ");
  const pickable = ctx.editable && !fk && !locked;
  const lockedExpr = locked ? ruleExpression(locked) : null;
  return (
    <tr id={ctx.rowIds.get(key)} {...(pickable ? { "data-rule-row": "" } : {})} data-database={database} data-schema={table.schema} data-table={table.name} data-column={column.name}>
      <th scope="row" data-label="Column" class="wrap-any">
        <code>{column.name}</code> <Badges table={table} column={column} />
      </th>
      <td data-label="Type">
        <code class="wrap-any">{column.dataType}</code>
        {column.notNull ? <span class="muted"> not null</span> : null}
      </td>
      <td data-label="Detected">
        {sens ? (
          <>
            <span class="badge sensitive">{sens.category}</span>
            {sens.suggested_rule ? <p class="hint">suggested: {describeRule(column, sens.suggested_rule)}</p> : null}
          </>
        ) : (
          <span class="muted">nothing</span>
        )}
      </td>
      <td data-label="Current rule" class="wrap-any">{current ? describeRule(column, current) : <span class="muted">not masked</span>}</td>
      {ctx.editable ? (
        <td data-label="Masking">
          {fk ? (
            <>
              <label for={`fn-${n}`} class="visually-hidden">{`Masking of ${where}`}</label>
              <select id={`fn-${n}`} disabled aria-describedby={`fk-${n}`}>
                <option>Foreign key: not maskable</option>
              </select>
              <p id={`fk-${n}`} class="hint">
                References {refId ? <a href={`#${refId}`}>{`${fk.refTable}.${refColumn}`}</a> : <code>{`${fk.refTable}.${refColumn}`}</code>}
                {": mask that key instead."}
              </p>
            </>
          ) : locked && lockedExpr ? (
            <>
              <input type="hidden" name={`col.${n}`} value={JSON.stringify([database, table.schema, table.name, column.name])} />
              <input type="hidden" name={`fn.${n}`} value={lockedExpr.kind === "function" ? "custom_function" : "custom_value"} />
              <input type="hidden" name={`expr.${n}`} value={lockedExpr.text} />
              <p class="hint">Set by the project's rules: {describeRule(column, locked)}</p>
            </>
          ) : (
            <>
              <input type="hidden" name={`col.${n}`} value={JSON.stringify([database, table.schema, table.name, column.name])} />
              <Picker n={n} column={column} where={where} selection={ctx.selections.get(key) ?? { choice: NOT_MASKED, expression: "" }} message={message} />
            </>
          )}
        </td>
      ) : null}
    </tr>
  );
}

function TableSection({ ctx, database, table, first }: { ctx: RowContext; database: string; table: TableInfo; first: number }) {
  const masked = table.columns.filter((c) => ctx.currentByKey.has(columnKey(refOf(database, table, c.name)))).length;
  return (
    <details open>
      <summary>
        Table {table.name} <span class="muted">— {table.columns.length} columns, {masked} masked</span>
      </summary>
      <div class="table-wrap">
        <table class="stack columns">
          <caption class="visually-hidden">{`Columns of ${database}.${table.schema}.${table.name}`}</caption>
          <thead>
            <tr>
              <th scope="col" class="w-col">Column</th>
              <th scope="col" class="w-type">Type</th>
              <th scope="col" class="w-detected">Detected</th>
              <th scope="col" class="w-current">Current rule</th>
              {ctx.editable ? <th scope="col" class="w-mask">Masking</th> : null}
            </tr>
          </thead>
          <tbody>
            {table.columns.map((column, i) => (
              <ColumnRow ctx={ctx} n={first + i} database={database} table={table} column={column} />
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

export function MaskingEditor(props: EditorProps) {
  // Row numbers and anchors in page order, so a foreign key can link to the key it references.
  const rowIds = new Map<string, string>();
  const firstRow = new Map<TableInfo, number>();
  let n = 0;
  for (const d of props.databases) {
    for (const t of d.tables) {
      firstRow.set(t, n);
      for (const c of t.columns) rowIds.set(columnKey(refOf(d.database, t, c.name)), `col-${n++}`);
    }
  }
  const ctx: RowContext = {
    ...props,
    rowIds,
    sensitiveByKey: new Map(props.sensitive.map((s) => [columnKey(s), s])),
    currentByKey: new Map(props.current.map((r) => [columnKey(r), r])),
    lockedByKey: new Map(props.locked.map((r) => [columnKey(r), r])),
  };
  const tree = props.databases.map((d) => {
    const schemas = [...new Set(d.tables.map((t) => t.schema))];
    return (
      <details open>
        <summary>Database {d.database}</summary>
        {schemas.map((s) => (
          <details open>
            <summary>Schema {s}</summary>
            {d.tables
              .filter((t) => t.schema === s)
              .map((t) => (
                <TableSection ctx={ctx} database={d.database} table={t} first={firstRow.get(t) ?? 0} />
              ))}
          </details>
        ))}
      </details>
    );
  });
  if (!props.editable) return <div class="tree">{tree}</div>;
  return (
    <form method="post" action={props.action} data-validate-url={props.validateUrl}>
      <CsrfField csrf={props.csrf} />
      <div class="tree">{tree}</div>
      <div class="apply">
        <button type="submit">{props.submitLabel}</button>
      </div>
    </form>
  );
}
