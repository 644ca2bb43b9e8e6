package migrate

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Rule describes one lint rule.
type Rule struct {
	ID      string
	Summary string
	// ExpandOnly rules guard the revision that is still serving, so they apply to expand
	// parts only (a contract part exists to drop what no serving revision uses); the others
	// concern locks and rewrites and apply to contract parts too.
	ExpandOnly bool
	// Style rules are schema preferences (squawk's prefer-* rules): warnings that never block.
	Style bool
}

// Rules lists every rule Lint knows, by id; lint-override accepts these ids.
var Rules = []Rule{
	{"drop-column", "DROP COLUMN while the serving revision may read it", true, false},
	{"drop-table", "DROP TABLE while the serving revision may use it", true, false},
	{"truncate-table", "TRUNCATE removes rows the serving revision uses", true, false},
	{"add-column-required", "ADD COLUMN NOT NULL without a default breaks the serving revision's inserts", true, false},
	{"rename-column", "RENAME COLUMN breaks every query that uses the old name", false, false},
	{"rename-table", "RENAME TABLE breaks every query that uses the old name", false, false},
	{"change-column-type", "ALTER COLUMN TYPE rewrites the table under an ACCESS EXCLUSIVE lock", false, false},
	{"set-not-null", "SET NOT NULL scans the table under an ACCESS EXCLUSIVE lock", false, false},
	{"add-column-volatile-default", "ADD COLUMN with a volatile default, serial, identity or stored generated column rewrites the table", false, false},
	{"create-index-non-concurrently", "CREATE INDEX without CONCURRENTLY blocks writes for the whole build", false, false},
	{"drop-index-non-concurrently", "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock", false, false},
	{"reindex-non-concurrently", "REINDEX without CONCURRENTLY blocks writes (and reads through the index)", false, false},
	{"constraint-missing-not-valid", "ADD FOREIGN KEY / CHECK without NOT VALID scans the table under lock", false, false},
	{"add-unique-without-index", "ADD PRIMARY KEY / UNIQUE builds an index under an ACCESS EXCLUSIVE lock", false, false},
	{"lock-timeout-missing", "a statement takes a strong lock and the migration states no lock_timeout", false, false},
	{"concurrently-in-transaction", "a statement that cannot run in a transaction, in a transactional migration", false, false},
	{"transaction-control", "BEGIN / COMMIT / ROLLBACK inside a migration the runner wraps", false, false},
	{"vacuum-full", "VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock", false, false},
	{"cluster", "CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock", false, false},
	{"refresh-matview-non-concurrently", "REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks reads of the view", false, false},
	{"set-logged", "SET LOGGED / UNLOGGED rewrites the table under an ACCESS EXCLUSIVE lock", false, false},
	{"validate-in-same-transaction", "VALIDATE CONSTRAINT in the transaction that added it NOT VALID keeps the ADD's lock for the whole scan", false, false},
	{"prefer-bigint", "a 16- or 32-bit integer column runs out of values, and widening it rewrites the table", false, true},
	{"prefer-identity", "serial columns tie a sequence to the table by ownership, not by definition", false, true},
	{"prefer-text-field", "varchar(n): raising the limit later takes an ACCESS EXCLUSIVE lock", false, true},
	{"ban-char-field", "char(n) pads with spaces and compares surprisingly", false, true},
	{"prefer-timestamptz", "timestamp without time zone loses the offset of every value", false, true},
	{"drop-not-null", "DROP NOT NULL lets the new revision write NULLs the serving revision does not expect", true, false},
	{"drop-database", "DROP DATABASE in a migration", false, false},
	{"detach-partition-non-concurrently", "DETACH PARTITION without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the parent", false, false},
	{"alter-domain-add-constraint", "ALTER DOMAIN ADD CONSTRAINT without NOT VALID checks every column of the domain under lock", false, false},
	{"identifier-too-long", "an identifier longer than 63 bytes, which PostgreSQL truncates", false, false},
	{"create-domain-with-constraint", "a domain's CHECK is hard to change later: every change checks every column using it", false, true},
	{"enum-value-ordering", "ALTER TYPE … ADD VALUE without BEFORE/AFTER appends the value last, whatever its meaning", false, true},
	{"prefer-robust-stmts", "in a no-transaction migration, a statement that fails when run again after a partial run", false, true},
	{"statement-timeout-missing", "a statement scans or rewrites a table under a strong lock and nothing bounds how long", false, true},
}

var ruleByID = func() map[string]Rule {
	m := map[string]Rule{}
	for _, r := range Rules {
		m[r.ID] = r
	}
	return m
}()

func (c *lintCtx) node(n *pg.Node) {
	switch {
	case n.GetCreateStmt() != nil:
		c.created[relName(n.GetCreateStmt().GetRelation())] = true
		c.robust(n.GetCreateStmt().GetIfNotExists(), "CREATE TABLE IF NOT EXISTS")
		for _, el := range n.GetCreateStmt().GetTableElts() {
			if col := el.GetColumnDef(); col != nil {
				c.columnStyle(col)
			}
		}
	case n.GetAlterTableStmt() != nil:
		c.alterTable(n.GetAlterTableStmt())
	case n.GetRenameStmt() != nil:
		c.rename(n.GetRenameStmt())
	case n.GetDropStmt() != nil:
		c.drop(n.GetDropStmt())
	case n.GetIndexStmt() != nil:
		c.index(n.GetIndexStmt())
	case n.GetTruncateStmt() != nil:
		c.strong()
		c.flag("truncate-table", "TRUNCATE removes rows the serving revision still reads; delete data in a contract part, in batches, once no revision uses it")
	case n.GetVacuumStmt() != nil:
		c.vacuum(n.GetVacuumStmt())
	case n.GetClusterStmt() != nil:
		c.strong()
		c.flag("cluster", "CLUSTER rewrites the table and blocks reads and writes until done; use pg_repack, or leave physical order alone")
	case n.GetReindexStmt() != nil:
		c.reindex(n.GetReindexStmt())
	case n.GetRefreshMatViewStmt() != nil:
		if !n.GetRefreshMatViewStmt().GetConcurrent() {
			c.strong()
			c.flag("refresh-matview-non-concurrently", "REFRESH MATERIALIZED VIEW blocks reads of the view; use REFRESH MATERIALIZED VIEW CONCURRENTLY (needs a unique index on the view)")
		}
	case n.GetTransactionStmt() != nil:
		c.flag("transaction-control", "the runner runs each migration in its own transaction; remove BEGIN/COMMIT/ROLLBACK (use -- +cutover no-transaction for statements that must run outside one)")
	case n.GetVariableSetStmt() != nil:
		switch strings.ToLower(n.GetVariableSetStmt().GetName()) {
		case "lock_timeout":
			c.setsLock = true
		case "statement_timeout":
			c.setsStmt = true
		}
	case n.GetCreateTrigStmt() != nil, n.GetLockStmt() != nil:
		c.strong()
	default:
		c.moreNode(n)
	}
}

func (c *lintCtx) alterTable(a *pg.AlterTableStmt) {
	table := relName(a.GetRelation())
	if c.created[table] {
		return // a table created in this same section has no rows and no readers yet
	}
	if a.GetObjtype() == pg.ObjectType_OBJECT_TABLE {
		c.strong()
	}
	for _, cmdNode := range a.GetCmds() {
		cmd := cmdNode.GetAlterTableCmd()
		c.robustCmd(cmd)
		switch cmd.GetSubtype() {
		case pg.AlterTableType_AT_DropColumn:
			c.flag("drop-column", "dropping column %q breaks the serving revision if it still reads it; stop using the column in a deployed revision, then drop it in a contract part", cmd.GetName())
		case pg.AlterTableType_AT_AlterColumnType:
			c.flag("change-column-type", "changing the type of %q rewrites the table (and breaks readers expecting the old type); add a new column, dual-write and backfill it, switch reads, drop the old column in a contract part", cmd.GetName())
		case pg.AlterTableType_AT_SetNotNull:
			c.setNotNull(table, cmd.GetName())
		case pg.AlterTableType_AT_AddColumn:
			c.addColumn(cmd.GetDef().GetColumnDef())
		case pg.AlterTableType_AT_AddConstraint:
			c.addConstraint(table, cmd.GetDef().GetConstraint())
		case pg.AlterTableType_AT_ValidateConstraint:
			if ref, ok := c.notNullChecks[cmd.GetName()]; ok && ref.table == table {
				c.validated[ref] = true
			}
			if c.notValid[cmd.GetName()] && !c.m.NoTransaction {
				c.flag("validate-in-same-transaction", "constraint %q is validated in the transaction that added it NOT VALID, so the scan runs under the ADD's ACCESS EXCLUSIVE lock; VALIDATE CONSTRAINT in a later migration", cmd.GetName())
			}
		case pg.AlterTableType_AT_DetachPartition:
			if cmd.GetDef().GetPartitionCmd().GetConcurrent() {
				c.needsNoTransaction("DETACH PARTITION … CONCURRENTLY")
			} else {
				c.flag("detach-partition-non-concurrently", "DETACH PARTITION takes an ACCESS EXCLUSIVE lock on the parent table %s, blocking every query on it; use DETACH PARTITION … CONCURRENTLY (PostgreSQL 14+) in a no-transaction migration", table)
			}
		case pg.AlterTableType_AT_DropNotNull:
			c.flag("drop-not-null", "dropping NOT NULL on %q lets the new revision write NULLs the serving revision may not handle; deploy code that handles NULL first, then drop the constraint in a contract part", cmd.GetName())
		case pg.AlterTableType_AT_SetLogged, pg.AlterTableType_AT_SetUnLogged:
			c.flag("set-logged", "SET LOGGED/UNLOGGED rewrites the table under an ACCESS EXCLUSIVE lock; create a new table and copy in batches instead")
		}
	}
}

func (c *lintCtx) setNotNull(table, column string) {
	if c.validated[colRef{table, column}] {
		return
	}
	c.flag("set-not-null", "SET NOT NULL on %q scans the whole table under an ACCESS EXCLUSIVE lock; first ADD CONSTRAINT … CHECK (%s IS NOT NULL) NOT VALID, then in a later migration VALIDATE CONSTRAINT and SET NOT NULL (PostgreSQL 12+ uses the check and skips the scan)", column, column)
}

func (c *lintCtx) addColumn(col *pg.ColumnDef) {
	c.columnStyle(col)
	name := col.GetColname()
	typ := typeName(col.GetTypeName())
	if strings.Contains(typ, "serial") {
		c.flag("add-column-volatile-default", "adding %s column %q fills it from a sequence and rewrites the table under an ACCESS EXCLUSIVE lock; add a plain column, then set its default and backfill in batches", typ, name)
	}
	notNull, hasDefault := col.GetIsNotNull(), col.GetRawDefault() != nil
	for _, cn := range col.GetConstraints() {
		k := cn.GetConstraint()
		switch k.GetContype() {
		case pg.ConstrType_CONSTR_NOTNULL:
			notNull = true
		case pg.ConstrType_CONSTR_DEFAULT:
			hasDefault = true
			if f := volatileCall(k.GetRawExpr()); f != "" {
				c.flag("add-column-volatile-default", "the default %s() of %q is not known to be immutable or stable, so it may be volatile and rewrite every row under an ACCESS EXCLUSIVE lock; add the column without a default (or with a constant one: PostgreSQL 11+ stores it without a rewrite), then backfill in batches and set the default", f, name)
			}
		case pg.ConstrType_CONSTR_GENERATED, pg.ConstrType_CONSTR_IDENTITY:
			hasDefault = true
			c.flag("add-column-volatile-default", "adding generated or identity column %q computes every row and rewrites the table under an ACCESS EXCLUSIVE lock; add a plain column, fill it with a trigger and batched backfill", name)
		case pg.ConstrType_CONSTR_FOREIGN:
			c.flag("constraint-missing-not-valid", "an inline REFERENCES on new column %q validates under lock; add the column, then ADD CONSTRAINT … FOREIGN KEY … NOT VALID and VALIDATE CONSTRAINT in a later migration", name)
		case pg.ConstrType_CONSTR_PRIMARY, pg.ConstrType_CONSTR_UNIQUE:
			c.flag("add-unique-without-index", "an inline UNIQUE/PRIMARY KEY on new column %q builds an index under an ACCESS EXCLUSIVE lock; add the column, CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT … USING INDEX", name)
		}
	}
	if notNull && !hasDefault {
		c.flag("add-column-required", "NOT NULL column %q without a default makes the serving revision's INSERTs fail; add it nullable (or with a constant default), backfill, then set NOT NULL the safe way", name)
	}
}

func (c *lintCtx) addConstraint(table string, k *pg.Constraint) {
	switch k.GetContype() {
	case pg.ConstrType_CONSTR_FOREIGN, pg.ConstrType_CONSTR_CHECK:
		if ref, ok := notNullCheck(k); ok && k.GetSkipValidation() {
			c.notNullChecks[k.GetConname()] = colRef{table, ref}
		}
		if k.GetSkipValidation() && k.GetConname() != "" {
			c.notValid[k.GetConname()] = true
		}
		if !k.GetSkipValidation() {
			c.flag("constraint-missing-not-valid", "adding a foreign key or check constraint validates every row while holding a lock; add it with NOT VALID, then VALIDATE CONSTRAINT in a separate migration (it takes a weaker lock)")
		}
	case pg.ConstrType_CONSTR_PRIMARY, pg.ConstrType_CONSTR_UNIQUE:
		if k.GetIndexname() == "" {
			c.flag("add-unique-without-index", "adding a PRIMARY KEY / UNIQUE constraint builds its index under an ACCESS EXCLUSIVE lock; CREATE UNIQUE INDEX CONCURRENTLY first (no-transaction migration), then ADD CONSTRAINT … USING INDEX")
		}
	case pg.ConstrType_CONSTR_EXCLUSION:
		c.flag("add-unique-without-index", "adding an EXCLUDE constraint builds its index and checks every row under an ACCESS EXCLUSIVE lock; there is no concurrent form: do it at a quiet time with an override")
	}
}

// notNullCheck reports the column of a CHECK (col IS NOT NULL) constraint.
func notNullCheck(k *pg.Constraint) (string, bool) {
	nt := k.GetRawExpr().GetNullTest()
	if k.GetContype() != pg.ConstrType_CONSTR_CHECK || nt == nil || nt.GetNulltesttype() != pg.NullTestType_IS_NOT_NULL {
		return "", false
	}
	fields := nt.GetArg().GetColumnRef().GetFields()
	if len(fields) == 0 {
		return "", false
	}
	return strings.ToLower(fields[len(fields)-1].GetString_().GetSval()), true
}

func (c *lintCtx) rename(r *pg.RenameStmt) {
	switch r.GetRenameType() {
	case pg.ObjectType_OBJECT_COLUMN:
		c.strong()
		c.flag("rename-column", "renaming %q to %q breaks the serving revision's queries; add the new column, dual-write and backfill, switch reads in a release, drop the old column in a contract part", r.GetSubname(), r.GetNewname())
	case pg.ObjectType_OBJECT_TABLE:
		c.strong()
		c.flag("rename-table", "renaming table %q breaks the serving revision's queries; create the new table (or rename and leave a view with the old name), switch code in a release, drop the old name in a contract part", relName(r.GetRelation()))
	}
}

func (c *lintCtx) drop(d *pg.DropStmt) {
	c.robust(d.GetMissingOk(), "DROP … IF EXISTS")
	switch d.GetRemoveType() {
	case pg.ObjectType_OBJECT_TABLE:
		c.strong()
		c.flag("drop-table", "dropping a table breaks the serving revision if it still uses it; stop using it in a deployed revision, then drop it in a contract part")
	case pg.ObjectType_OBJECT_INDEX:
		if d.GetConcurrent() {
			c.needsNoTransaction("DROP INDEX CONCURRENTLY")
			return
		}
		c.strong()
		c.flag("drop-index-non-concurrently", "DROP INDEX takes an ACCESS EXCLUSIVE lock on the table; use DROP INDEX CONCURRENTLY in a no-transaction migration")
	}
}

func (c *lintCtx) index(ix *pg.IndexStmt) {
	c.robust(ix.GetIfNotExists(), "CREATE INDEX … IF NOT EXISTS")
	if ix.GetConcurrent() {
		c.needsNoTransaction("CREATE INDEX CONCURRENTLY")
		return
	}
	if c.created[relName(ix.GetRelation())] {
		return
	}
	c.strong()
	c.flag("create-index-non-concurrently", "CREATE INDEX blocks writes to the table for the whole build; use CREATE INDEX CONCURRENTLY in a migration marked -- +cutover no-transaction")
}

func (c *lintCtx) reindex(r *pg.ReindexStmt) {
	if hasOption(r.GetParams(), "concurrently") {
		c.needsNoTransaction("REINDEX CONCURRENTLY")
		return
	}
	c.strong()
	c.flag("reindex-non-concurrently", "REINDEX blocks writes to the table; use REINDEX … CONCURRENTLY (PostgreSQL 12+) in a no-transaction migration")
}

func (c *lintCtx) vacuum(v *pg.VacuumStmt) {
	if v.GetIsVacuumcmd() {
		c.needsNoTransaction("VACUUM")
	}
	if hasOption(v.GetOptions(), "full") {
		c.strong()
		c.flag("vacuum-full", "VACUUM FULL rewrites the table and blocks reads and writes until done; use plain VACUUM, or pg_repack")
	}
}

func (c *lintCtx) needsNoTransaction(what string) {
	if !c.m.NoTransaction {
		c.flag("concurrently-in-transaction", "%s cannot run inside a transaction; mark the migration -- +cutover no-transaction (and keep one such statement per migration)", what)
	}
}

func hasOption(opts []*pg.Node, name string) bool {
	for _, o := range opts {
		if strings.EqualFold(o.GetDefElem().GetDefname(), name) {
			return true
		}
	}
	return false
}

func typeName(t *pg.TypeName) string {
	var parts []string
	for _, n := range t.GetNames() {
		parts = append(parts, strings.ToLower(n.GetString_().GetSval()))
	}
	return strings.Join(parts, ".")
}

// safeDefaultFuncs are functions PostgreSQL marks immutable or stable that defaults commonly
// call: PostgreSQL 11+ evaluates such a default once and adds the column without a rewrite.
// Any other function may be volatile (random(), gen_random_uuid(), nextval(), a user
// function), so it is judged to rewrite the table.
var safeDefaultFuncs = map[string]bool{
	"now": true, "statement_timestamp": true, "transaction_timestamp": true, "current_setting": true,
	"lower": true, "upper": true, "btrim": true, "ltrim": true, "rtrim": true, "concat": true, "concat_ws": true,
	"length": true, "replace": true, "substring": true, "left": true, "right": true, "lpad": true, "rpad": true,
	"to_char": true, "to_date": true, "to_timestamp": true, "to_number": true, "date_trunc": true, "date_part": true,
	"make_date": true, "make_time": true, "make_interval": true, "make_timestamp": true, "make_timestamptz": true,
	"timezone": true, "abs": true, "round": true, "floor": true, "ceil": true, "md5": true,
	"json_build_object": true, "jsonb_build_object": true, "json_build_array": true, "jsonb_build_array": true,
	"array_fill": true, "int4range": true, "int8range": true, "numrange": true, "tstzrange": true, "daterange": true,
}

// volatileCall returns the name of a function called anywhere in expr that is not known to
// be immutable or stable, or "".
func volatileCall(expr *pg.Node) string {
	if expr == nil {
		return ""
	}
	found := ""
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		if fc, ok := m.Interface().(*pg.FuncCall); ok {
			names := fc.GetFuncname()
			if name := strings.ToLower(names[len(names)-1].GetString_().GetSval()); !safeDefaultFuncs[name] {
				found = name
			}
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i := 0; i < v.List().Len(); i++ {
					walk(v.List().Get(i).Message())
				}
			case fd.Message() != nil && !fd.IsMap():
				walk(v.Message())
			}
			return found == ""
		})
	}
	walk(proto.Message(expr).ProtoReflect())
	return found
}

// columnStyle flags the column types squawk's style rules prefer others to.
func (c *lintCtx) columnStyle(col *pg.ColumnDef) {
	name := col.GetColname()
	switch typ := typeName(col.GetTypeName()); typ {
	case "pg_catalog.int4", "pg_catalog.int2", "serial", "serial4", "smallserial", "serial2", "smallint", "integer", "int":
		c.flag("prefer-bigint", "column %q is a 16- or 32-bit integer; use bigint (or bigserial / an identity column) before the values run out", name)
	case "pg_catalog.varchar":
		if len(col.GetTypeName().GetTypmods()) > 0 {
			c.flag("prefer-text-field", "column %q is varchar(n); use text with a CHECK (length(%s) <= n), whose limit changes without a table lock", name, name)
		}
	case "pg_catalog.bpchar":
		c.flag("ban-char-field", "column %q is char(n); use text (with a CHECK on its length if it matters)", name)
	case "pg_catalog.timestamp":
		c.flag("prefer-timestamptz", "column %q is timestamp without time zone; use timestamptz, which stores the instant", name)
	}
	if typ := typeName(col.GetTypeName()); strings.Contains(typ, "serial") {
		c.flag("prefer-identity", "column %q is %s; use bigint GENERATED BY DEFAULT AS IDENTITY", name, typ)
	}
}
