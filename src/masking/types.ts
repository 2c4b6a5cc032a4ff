// Shapes shared by masking-rule introspection and validation.

/** One masking rule, in the Neon API v2 shape. */
export interface MaskingRule {
  database_name: string;
  schema_name: string;
  table_name: string;
  column_name: string;
  masking_function?: string | null;
  masking_value?: string | null;
}

export interface ColumnInfo {
  name: string;
  /** format_type() of the column, e.g. "character varying(80)". */
  dataType: string;
  notNull: boolean;
}

export interface TableInfo {
  schema: string;
  name: string;
  kind: "table" | "partitioned table";
  columns: ColumnInfo[];
  /** Column names of the primary key, in key order (empty when there is none). */
  primaryKey: string[];
  /** Key columns of every UNIQUE constraint / unique index, the primary key included. */
  uniqueColumnSets: string[][];
  /**
   * Optional: the same sets with the constraint or index name, so messages can
   * name it. Catalogs built by hand may leave it out.
   */
  uniqueConstraints?: { name: string; columns: string[]; primary: boolean }[];
  foreignKeys: { columns: string[]; refSchema: string; refTable: string; refColumns: string[]; name: string }[];
}

/** Ordinary and partitioned tables of the user schemas of one database. */
export interface DatabaseCatalog {
  database: string;
  tables: TableInfo[];
}

export interface RuleProblem {
  /** Index of the rule in the submitted list. */
  index: number;
  /** e.g. "masking_rules[2].masking_function". */
  field: string;
  message: string;
}
