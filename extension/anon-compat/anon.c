/*
 * anon.c — anonbranch's PostgreSQL Anonymizer-compatible engine.
 *
 * Registers the security label provider "anon" and parses its labels with the
 * server's own SQL parser, so the provider (label time) and the
 * anon.pg_masking_rules view (masking time) agree on what a label means.
 *
 * Written from the documented interface of PostgreSQL Anonymizer (label
 * syntax, function names, observable behaviour), not from its source.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "commands/seclabel.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

PG_FUNCTION_INFO_V1(anon_parse_label);

static char *guc_salt = NULL;
static char *guc_algorithm = NULL;

typedef enum AnonLabelKind
{
	LABEL_INVALID,
	LABEL_MASKED_WITH_FUNCTION,
	LABEL_MASKED_WITH_VALUE,
	LABEL_NOT_MASKED,
	LABEL_TRUSTED,
	LABEL_MASKED
} AnonLabelKind;

typedef struct AnonLabel
{
	AnonLabelKind kind;
	char	   *expression;		/* for MASKED WITH FUNCTION / VALUE */
	char	   *error;			/* why the expression was refused, or NULL */
	List	   *function_schemas;	/* schema of every function the expression
									 * calls ("pg_catalog" when unqualified) */
} AnonLabel;

static const char *
skip_space(const char *p)
{
	while (*p && isspace((unsigned char) *p))
		p++;
	return p;
}

/*
 * Match one keyword, case-insensitively, at p. The keyword must be followed
 * by white space or the end of the string. Returns the position after it, or
 * NULL.
 */
static const char *
match_word(const char *p, const char *word)
{
	size_t		len = strlen(word);

	if (pg_strncasecmp(p, word, len) != 0)
		return NULL;
	if (p[len] != '\0' && !isspace((unsigned char) p[len]))
		return NULL;
	return p + len;
}

/* Match a sequence of keywords separated by white space. */
static const char *
match_words(const char *p, const char *const *words)
{
	for (; *words; words++)
	{
		p = skip_space(p);
		p = match_word(p, *words);
		if (p == NULL)
			return NULL;
	}
	return p;
}

static bool
is_rest_empty(const char *p)
{
	return *skip_space(p) == '\0';
}

typedef struct FuncWalkContext
{
	List	   *schemas;
} FuncWalkContext;

static bool
collect_function_schemas(Node *node, FuncWalkContext *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, FuncCall))
	{
		FuncCall   *fc = (FuncCall *) node;
		int			n = list_length(fc->funcname);
		const char *schema = "pg_catalog";

		if (n >= 2)
			schema = strVal(list_nth(fc->funcname, n - 2));
		context->schemas = lappend(context->schemas, pstrdup(schema));
	}
	return raw_expression_tree_walker(node, collect_function_schemas, (void *) context);
}

/*
 * Check that expr is exactly one scalar expression, using the real parser.
 * The expression is parsed the way the engine later embeds it, inside
 * parentheses on lines of their own, so a trailing comment or an unbalanced
 * parenthesis cannot escape into the surrounding statement.
 */
static void
validate_expression(AnonLabel *label)
{
	StringInfoData sql;
	List	   *parsetree = NIL;
	MemoryContext oldcxt = CurrentMemoryContext;
	RawStmt    *raw;
	SelectStmt *select;
	ResTarget  *target;
	FuncWalkContext walk = {NIL};

	if (is_rest_empty(label->expression))
	{
		label->error = "the expression is empty";
		return;
	}

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT (\n%s\n)", label->expression);

	PG_TRY();
	{
		parsetree = raw_parser(sql.data, RAW_PARSE_DEFAULT);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		label->error = psprintf("the expression does not parse: %s", edata->message);
		FreeErrorData(edata);
		return;
	}
	PG_END_TRY();

	if (list_length(parsetree) != 1)
	{
		label->error = "the expression must be a single expression, not several statements";
		return;
	}
	raw = linitial_node(RawStmt, parsetree);
	if (!IsA(raw->stmt, SelectStmt))
	{
		label->error = "the expression must be a single expression";
		return;
	}
	select = (SelectStmt *) raw->stmt;
	if (select->op != SETOP_NONE || select->fromClause != NIL ||
		select->whereClause != NULL || select->groupClause != NIL ||
		select->havingClause != NULL || select->windowClause != NIL ||
		select->sortClause != NIL || select->limitCount != NULL ||
		select->limitOffset != NULL || select->lockingClause != NIL ||
		select->withClause != NULL || select->distinctClause != NIL ||
		select->intoClause != NULL || select->valuesLists != NIL ||
		list_length(select->targetList) != 1)
	{
		label->error = "the expression must be a single expression";
		return;
	}
	target = linitial_node(ResTarget, select->targetList);
	if (target->name != NULL)
	{
		label->error = "the expression must be a single expression";
		return;
	}
	collect_function_schemas(target->val, &walk);
	label->function_schemas = walk.schemas;
}

/* Parse a label of provider anon. Keywords match case-insensitively. */
static AnonLabel
parse_label(const char *label_text)
{
	static const char *const masked_with_function[] = {"MASKED", "WITH", "FUNCTION", NULL};
	static const char *const masked_with_value[] = {"MASKED", "WITH", "VALUE", NULL};
	static const char *const not_masked[] = {"NOT", "MASKED", NULL};
	static const char *const trusted[] = {"TRUSTED", NULL};
	static const char *const masked[] = {"MASKED", NULL};
	AnonLabel	label = {LABEL_INVALID, NULL, NULL, NIL};
	const char *rest;

	if ((rest = match_words(label_text, masked_with_function)) != NULL)
	{
		label.kind = LABEL_MASKED_WITH_FUNCTION;
		label.expression = pstrdup(skip_space(rest));
		validate_expression(&label);
	}
	else if ((rest = match_words(label_text, masked_with_value)) != NULL)
	{
		label.kind = LABEL_MASKED_WITH_VALUE;
		label.expression = pstrdup(skip_space(rest));
		validate_expression(&label);
	}
	else if ((rest = match_words(label_text, not_masked)) != NULL && is_rest_empty(rest))
		label.kind = LABEL_NOT_MASKED;
	else if ((rest = match_words(label_text, trusted)) != NULL && is_rest_empty(rest))
		label.kind = LABEL_TRUSTED;
	else if ((rest = match_words(label_text, masked)) != NULL && is_rest_empty(rest))
		label.kind = LABEL_MASKED;
	return label;
}

static void
anon_object_relabel(const ObjectAddress *object, const char *seclabel)
{
	AnonLabel	label;
	const char *object_kind;
	bool		ok;

	/* Removing a label (IS NULL) is always allowed. */
	if (seclabel == NULL)
		return;

	label = parse_label(seclabel);
	if (object->classId == RelationRelationId && object->objectSubId != 0)
	{
		object_kind = "column";
		ok = (label.kind == LABEL_MASKED_WITH_FUNCTION ||
			  label.kind == LABEL_MASKED_WITH_VALUE ||
			  label.kind == LABEL_NOT_MASKED) && label.error == NULL;
	}
	else if (object->classId == NamespaceRelationId)
	{
		object_kind = "schema";
		ok = label.kind == LABEL_TRUSTED;
	}
	else if (object->classId == AuthIdRelationId)
	{
		object_kind = "role";
		ok = label.kind == LABEL_MASKED;
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("anon provider does not support labels on this object")));

	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("'%s' is not a valid label for a %s", seclabel, object_kind),
				 label.error ? errdetail("%s", label.error) : 0));
}

static const char *
label_kind_name(AnonLabelKind kind)
{
	switch (kind)
	{
		case LABEL_MASKED_WITH_FUNCTION:
			return "function";
		case LABEL_MASKED_WITH_VALUE:
			return "value";
		case LABEL_NOT_MASKED:
			return "not_masked";
		case LABEL_TRUSTED:
			return "trusted";
		case LABEL_MASKED:
			return "masked";
		case LABEL_INVALID:
			break;
	}
	return "invalid";
}

/*
 * anon._parse_label(label text,
 *                   OUT kind text, OUT expression text,
 *                   OUT function_schemas text[], OUT error text)
 *
 * kind is one of function, value, not_masked, trusted, masked, invalid. A
 * masking label whose expression does not parse has kind invalid and says why
 * in error.
 */
Datum
anon_parse_label(PG_FUNCTION_ARGS)
{
	char	   *label_text = text_to_cstring(PG_GETARG_TEXT_PP(0));
	AnonLabel	label = parse_label(label_text);
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	AnonLabelKind kind = label.error ? LABEL_INVALID : label.kind;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "anon._parse_label must return a record");
	tupdesc = BlessTupleDesc(tupdesc);

	values[0] = CStringGetTextDatum(label_kind_name(kind));
	if (kind == LABEL_MASKED_WITH_FUNCTION || kind == LABEL_MASKED_WITH_VALUE)
		values[1] = CStringGetTextDatum(label.expression);
	else
		nulls[1] = true;

	if (kind == LABEL_INVALID || label.expression == NULL)
		nulls[2] = true;
	else
	{
		int			n = list_length(label.function_schemas);
		Datum	   *elems = palloc(sizeof(Datum) * (n > 0 ? n : 1));
		ListCell   *lc;
		int			i = 0;

		foreach(lc, label.function_schemas)
			elems[i++] = CStringGetTextDatum((char *) lfirst(lc));
		values[2] = PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
	}

	if (label.error)
		values[3] = CStringGetTextDatum(label.error);
	else
		nulls[3] = true;

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

void
_PG_init(void)
{
	DefineCustomStringVariable("anon.salt",
							   "Salt used by anon.hash() and the pseudo_* functions.",
							   NULL, &guc_salt, "",
							   PGC_SUSET, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomStringVariable("anon.algorithm",
							   "Hash algorithm used by anon.hash().",
							   NULL, &guc_algorithm, "sha256",
							   PGC_SUSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("anon");
	register_label_provider("anon", anon_object_relabel);
}
