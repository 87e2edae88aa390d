package cli

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
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
	types := make([]string, len(cols))
	if cts, err := rows.ColumnTypes(); err == nil {
		for i, ct := range cts {
			types[i] = ct.DatabaseTypeName()
		}
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var (
		tbl   *table
		cw    *csv.Writer
		first = true
	)
	switch format {
	case "table":
		tbl = newTable(e.stdout, cols...)
	case "csv":
		cw = csv.NewWriter(e.stdout)
		cw.Write(cols)
	case "json":
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
				cells[i] = clip(cell(v, types[i]), 120)
			}
			tbl.row(cells...)
		case "csv":
			cells := make([]string, len(vals))
			for i, v := range vals {
				cells[i] = cell(v, types[i])
			}
			cw.Write(cells)
		case "json":
			// keys in column order; a repeated column name stays repeated
			// rather than one value silently replacing another
			var b strings.Builder
			if !first {
				b.WriteString(",")
			}
			first = false
			b.WriteString("{")
			for i, c := range cols {
				if i > 0 {
					b.WriteString(",")
				}
				k, _ := json.Marshal(c)
				v, err := marshalValue(vals[i], types[i])
				if err != nil {
					return err
				}
				b.Write(k)
				b.WriteString(":")
				b.Write(v)
			}
			b.WriteString("}\n")
			if _, err := io.WriteString(e.stdout, b.String()); err != nil {
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
func cell(v any, typ string) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		return timeValue(x, typ)
	case []byte:
		return string(x)
	case string:
		return x
	case fmt.Stringer: // DECIMAL, HUGEINT, UUID, INTERVAL ... say what they are
		return x.String()
	}
	if b, err := json.Marshal(v); err == nil && (strings.HasPrefix(string(b), "{") || strings.HasPrefix(string(b), "[")) {
		return string(b)
	}
	return fmt.Sprint(v)
}

// timeValue prints a DuckDB DATE, TIME or TIMESTAMP as what it is: a date
// alone, a time of day alone, or an RFC 3339 instant (UTC).
func timeValue(t time.Time, typ string) string {
	t = t.UTC()
	switch typ {
	case "DATE":
		return t.Format(time.DateOnly)
	case "TIME", "TIMETZ":
		return t.Format("15:04:05.999999")
	}
	return t.Format(time.RFC3339Nano)
}

// marshalValue renders one value as JSON: numbers stay numbers (decimals
// exactly), times are RFC 3339 UTC strings.
func marshalValue(v any, typ string) ([]byte, error) {
	switch x := v.(type) {
	case time.Time:
		return json.Marshal(timeValue(x, typ))
	case []byte:
		return json.Marshal(string(x))
	case *big.Int: // HUGEINT: a number, exactly
		return []byte(x.String()), nil
	case interface{ Float64() float64 }: // DECIMAL: a number, exactly
		if s := fmt.Sprint(x); json.Valid([]byte(s)) {
			return []byte(s), nil
		}
		return json.Marshal(fmt.Sprint(x))
	case fmt.Stringer:
		return json.Marshal(x.String())
	}
	return json.Marshal(v)
}
