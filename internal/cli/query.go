package cli

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

func runQuery(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "query", "--case DIR [--format table|csv|json] SQL")
	caseFlag := fs.String("case", "", "the case folder; or HARRIER_CASE")
	format := fs.String("format", "table", "output: table, csv or json (an array of objects)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkFormat(*format, "table", "csv", "json"); err != nil {
		return err
	}
	dir, err := e.caseDir(*caseFlag)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErr("query needs SQL, e.g. \"SELECT event_name, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC\"")
	}
	c, st, err := openForRead(ctx, dir, true)
	if err != nil {
		return err
	}
	defer c.Close()
	defer st.Close()
	rows, err := st.Query(ctx, strings.Join(pos, " "))
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	return writeRows(e, rows, *format)
}

// writeRows formats a result set. Values are shown as DuckDB returns them;
// times in UTC.
func writeRows(e *env, rows *sql.Rows, format string) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var (
		tbl   *table
		cw    *csv.Writer
		enc   *json.Encoder
		first = true
	)
	switch format {
	case "table":
		tbl = newTable(e.stdout, cols...)
	case "csv":
		cw = csv.NewWriter(e.stdout)
		cw.Write(cols)
	case "json":
		enc = json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		fmt.Fprint(e.stdout, "[")
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		n++
		switch format {
		case "table":
			cells := make([]string, len(vals))
			for i, v := range vals {
				cells[i] = clip(cell(v), 120)
			}
			tbl.row(cells...)
		case "csv":
			cells := make([]string, len(vals))
			for i, v := range vals {
				cells[i] = cell(v)
			}
			cw.Write(cells)
		case "json":
			obj := make(map[string]any, len(cols))
			for i, c := range cols {
				obj[c] = jsonValue(vals[i])
			}
			if !first {
				fmt.Fprint(e.stdout, ",")
			}
			first = false
			if err := enc.Encode(obj); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query: %w", err)
	}
	switch format {
	case "table":
		if err := tbl.flush(); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "(%s rows)\n", num(n))
	case "csv":
		cw.Flush()
		return cw.Error()
	case "json":
		fmt.Fprintln(e.stdout, "]")
	}
	return nil
}

// cell renders one value as text.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return string(x)
	case string:
		return x
	}
	if b, err := json.Marshal(v); err == nil && (strings.HasPrefix(string(b), "{") || strings.HasPrefix(string(b), "[")) {
		return string(b)
	}
	return fmt.Sprint(v)
}

// jsonValue makes a DuckDB value JSON-friendly: JSON columns stay
// structured, times are RFC 3339 UTC.
func jsonValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return string(x)
	}
	return v
}
