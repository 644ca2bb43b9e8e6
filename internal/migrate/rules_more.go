package migrate

import (
	pg "github.com/pganalyze/pg_query_go/v6"
)

// heavyRules are the findings of statements that scan or rewrite a table while holding a
// lock that blocks reads or writes: how long they run is how long the table is blocked.
var heavyRules = map[string]bool{
	"change-column-type": true, "set-not-null": true, "add-column-volatile-default": true,
	"constraint-missing-not-valid": true, "add-unique-without-index": true, "create-index-non-concurrently": true,
	"reindex-non-concurrently": true, "vacuum-full": true, "cluster": true, "set-logged": true,
	"refresh-matview-non-concurrently": true, "validate-in-same-transaction": true, "alter-domain-add-constraint": true,
}

// moreNode checks the statements squawk's rules cover beyond the table changes in node.
func (c *lintCtx) moreNode(n *pg.Node) {
	switch {
	case n.GetDropdbStmt() != nil:
		c.flag("drop-database", "DROP DATABASE %s removes every table of every revision; a migration must never do it: drop the database by hand, outside a deployment", n.GetDropdbStmt().GetDbname())
	case n.GetCreateDomainStmt() != nil:
		c.createDomain(n.GetCreateDomainStmt())
	case n.GetAlterDomainStmt() != nil:
		c.alterDomain(n.GetAlterDomainStmt())
	case n.GetAlterEnumStmt() != nil:
		e := n.GetAlterEnumStmt()
		if e.GetNewVal() != "" && e.GetOldVal() == "" && e.GetNewValNeighbor() == "" {
			c.flag("enum-value-ordering", "ADD VALUE %q appends it after every existing value, so comparisons and ORDER BY put it last; say where it belongs with BEFORE or AFTER an existing value", e.GetNewVal())
		}
	}
}

func (c *lintCtx) createDomain(d *pg.CreateDomainStmt) {
	for _, k := range d.GetConstraints() {
		if k.GetConstraint().GetContype() == pg.ConstrType_CONSTR_CHECK {
			c.flag("create-domain-with-constraint", "domain %s has a CHECK: changing it later checks every column of every table using the domain; put the CHECK on the columns (ADD CONSTRAINT … NOT VALID, then VALIDATE)", typeName(&pg.TypeName{Names: d.GetDomainname()}))
			return
		}
	}
}

func (c *lintCtx) alterDomain(a *pg.AlterDomainStmt) {
	if a.GetSubtype() != "C" || a.GetDef().GetConstraint().GetSkipValidation() {
		return
	}
	c.strong()
	c.flag("alter-domain-add-constraint", "ALTER DOMAIN %s ADD CONSTRAINT checks every column of every table using the domain while blocking writes to them; add it NOT VALID, then VALIDATE CONSTRAINT in a later migration", typeName(&pg.TypeName{Names: a.GetTypeName()}))
}

// robust flags, in a no-transaction migration, a statement that fails when the migration runs
// again after it stopped part way (a transactional one rolls back whole and reruns clean).
func (c *lintCtx) robust(guarded bool, guard string) {
	if c.m.NoTransaction && !guarded {
		c.flag("prefer-robust-stmts", "this no-transaction migration may stop part way and run again, and this statement then fails on what its first run did; write %s", guard)
	}
}

// robustCmd applies robust to the ALTER TABLE commands that have a guard.
func (c *lintCtx) robustCmd(cmd *pg.AlterTableCmd) {
	switch cmd.GetSubtype() {
	case pg.AlterTableType_AT_AddColumn:
		c.robust(cmd.GetMissingOk(), "ADD COLUMN IF NOT EXISTS")
	case pg.AlterTableType_AT_DropColumn:
		c.robust(cmd.GetMissingOk(), "DROP COLUMN IF EXISTS")
	case pg.AlterTableType_AT_DropConstraint:
		c.robust(cmd.GetMissingOk(), "DROP CONSTRAINT IF EXISTS")
	}
}

// statementTimeout flags a part whose statements scan or rewrite a table under a strong
// lock when nothing bounds how long they run: not the migration's statement_timeout, not a
// SET statement_timeout. The spec's database.statement_timeout may still bound it: the lint
// does not see the spec, so this is a warning.
func (c *lintCtx) statementTimeout() {
	st := c.m.StatementTimeout
	if c.heavy == 0 || c.setsStmt || (st != nil && *st > 0) {
		return
	}
	c.stmt.Line = c.heavy
	c.flag("statement-timeout-missing", "this statement scans or rewrites a table while blocking it, and nothing bounds how long; set -- +cutover statement_timeout 5m (or database.statement_timeout in the spec) so that a slow run fails instead of blocking the table")
}
