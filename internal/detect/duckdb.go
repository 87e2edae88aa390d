package detect

import "strings"

// DuckDB is the dialect of a case's own store.
type DuckDB struct{}

func (DuckDB) Name() string { return "duckdb" }

func (DuckDB) JSONText(col string, path []string) string {
	return "json_extract_string(" + col + ", " + sqlString(jsonPath(path, "")) + ")"
}

func (DuckDB) JSONElems(col string, path, inner []string) string {
	p := jsonPath(path, "[*]") + strings.TrimPrefix(jsonPath(inner, ""), "$")
	return "coalesce(json_extract_string(" + col + ", " + sqlString(p) + "), [])"
}

func (DuckDB) JSONDescendants(col string, path []string) string {
	return "coalesce(json_extract_string(" + col + ", " + sqlString(jsonPath(path, "..*")) + "), [])"
}

func (DuckDB) JSONExists(col string, path []string) string {
	return "json_exists(" + col + ", " + sqlString(jsonPath(path, "")) + ")"
}

func (DuckDB) ListAny(list, v, pred string) string {
	return "list_bool_or(list_transform(" + list + ", " + v + " -> " + pred + "))"
}

func (DuckDB) ListConcat(lists []string) string {
	if len(lists) == 1 {
		return lists[0]
	}
	return "list_concat(" + strings.Join(lists, ", ") + ")"
}

func (DuckDB) ListOf(x string) string { return "[" + x + "]" }

func (DuckDB) NonNullCount(list string) string {
	return "len(list_filter(" + list + ", z -> z IS NOT NULL))"
}

func (DuckDB) Lower(x string) string          { return "lower(" + x + ")" }
func (DuckDB) Like(x, pattern string) string  { return x + " LIKE " + pattern + ` ESCAPE '\'` }
func (DuckDB) Regex(x, pattern string) string { return "regexp_matches(" + x + ", " + pattern + ")" }
func (DuckDB) ToDouble(x string) string       { return "TRY_CAST(" + x + " AS DOUBLE)" }
func (DuckDB) Contains(x, y string) string    { return "contains(" + x + ", " + y + ")" }
func (DuckDB) StartsWith(x, y string) string  { return "starts_with(" + x + ", " + y + ")" }
func (DuckDB) EndsWith(x, y string) string    { return "ends_with(" + x + ", " + y + ")" }

func (DuckDB) TimePart(col, part string) string {
	return "extract(" + part + " FROM " + col + ")"
}

const ipv4Octet = `(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])`

var ipv4Pattern = "^" + ipv4Octet + `\.` + ipv4Octet + `\.` + ipv4Octet + `\.` + ipv4Octet + "$"

func (DuckDB) IPv4(x string) string {
	var parts []string
	for i, shift := range []string{"16777216", "65536", "256", "1"} {
		parts = append(parts, "CAST(split_part("+x+", '.', "+string(rune('1'+i))+") AS BIGINT) * "+shift)
	}
	return "(CASE WHEN regexp_full_match(" + x + ", " + sqlString(ipv4Pattern) + ") THEN " + strings.Join(parts, " + ") + " END)"
}

// Trino is the dialect of Amazon Athena (engine v3), over a table with the
// same logical columns as the case's events table.
type Trino struct{}

func (Trino) Name() string { return "trino" }

// trinoPath writes a JSON path in the bracket notation Trino's path parser
// accepts for any key ($["x-amz-acl"]); its dotted form takes only letters,
// digits, _ and :.
func trinoPath(path []string) string {
	var b strings.Builder
	b.WriteString("$")
	for _, p := range path {
		b.WriteString(`["`)
		b.WriteString(p)
		b.WriteString(`"]`)
	}
	return b.String()
}

func (Trino) JSONText(col string, path []string) string {
	p := sqlString(trinoPath(path))
	// scalars unquoted, objects and arrays as JSON text
	return "coalesce(json_extract_scalar(" + col + ", " + p + "), json_format(json_extract(" + col + ", " + p + ")))"
}

// JSONDescendants: Trino's JSON paths have no recursive descent, so only the
// direct members or elements are searched there.
func (Trino) JSONDescendants(col string, path []string) string {
	p := sqlString(trinoPath(path))
	arr := "coalesce(TRY_CAST(json_extract(" + col + ", " + p + ") AS ARRAY(JSON)), map_values(TRY_CAST(json_extract(" + col + ", " + p + ") AS MAP(VARCHAR, JSON))), ARRAY[])"
	return "transform(" + arr + ", e -> coalesce(json_extract_scalar(e, '$'), json_format(e)))"
}

func (Trino) JSONElems(col string, path, inner []string) string {
	arr := "coalesce(TRY_CAST(json_extract(" + col + ", " + sqlString(trinoPath(path)) + ") AS ARRAY(JSON)), ARRAY[])"
	ip := sqlString(trinoPath(inner))
	return "transform(" + arr + ", e -> coalesce(json_extract_scalar(e, " + ip + "), json_format(json_extract(e, " + ip + "))))"
}

func (Trino) JSONExists(col string, path []string) string {
	return "(json_extract(" + col + ", " + sqlString(trinoPath(path)) + ") IS NOT NULL)"
}

func (Trino) ListAny(list, v, pred string) string {
	return "any_match(" + list + ", " + v + " -> " + pred + ")"
}

func (Trino) ListConcat(lists []string) string {
	if len(lists) == 1 {
		return lists[0]
	}
	return "concat(" + strings.Join(lists, ", ") + ")"
}

func (Trino) ListOf(x string) string { return "ARRAY[" + x + "]" }

func (Trino) NonNullCount(list string) string {
	return "cardinality(filter(" + list + ", z -> z IS NOT NULL))"
}

func (Trino) Lower(x string) string          { return "lower(" + x + ")" }
func (Trino) Like(x, pattern string) string  { return x + " LIKE " + pattern + ` ESCAPE '\'` }
func (Trino) Regex(x, pattern string) string { return "regexp_like(" + x + ", " + pattern + ")" }
func (Trino) ToDouble(x string) string       { return "TRY_CAST(" + x + " AS DOUBLE)" }
func (Trino) Contains(x, y string) string    { return "(strpos(" + x + ", " + y + ") > 0)" }
func (Trino) StartsWith(x, y string) string  { return "starts_with(" + x + ", " + y + ")" }
func (Trino) EndsWith(x, y string) string {
	return "(substr(" + x + ", greatest(length(" + x + ") - length(" + y + ") + 1, 1)) = " + y + ")"
}

func (Trino) TimePart(col, part string) string {
	if part == "week" {
		return "week_of_year(" + col + ")"
	}
	return part + "(" + col + ")"
}

func (Trino) IPv4(x string) string {
	var parts []string
	for i, shift := range []string{"16777216", "65536", "256", "1"} {
		parts = append(parts, "CAST(split_part("+x+", '.', "+string(rune('1'+i))+") AS BIGINT) * "+shift)
	}
	return "(CASE WHEN regexp_like(" + x + ", " + sqlString(ipv4Pattern) + ") THEN " + strings.Join(parts, " + ") + " END)"
}

// ipv6Valid: hexadecimal groups of 1 to 4 digits, at most one "::", no
// embedded IPv4 and no zone (netip would accept those; the reference
// matcher refuses them too).
const ipv6Valid = `^(([0-9a-f]{1,4}(:[0-9a-f]{1,4})*)?::([0-9a-f]{1,4}(:[0-9a-f]{1,4})*)?|[0-9a-f]{1,4}(:[0-9a-f]{1,4}){7})$`

func (DuckDB) IPv6Hex(x string) string {
	l := "lower(" + x + ")"
	head := "(CASE WHEN split_part(" + l + ", '::', 1) = '' THEN []::VARCHAR[] ELSE string_split(split_part(" + l + ", '::', 1), ':') END)"
	tail := "(CASE WHEN NOT contains(" + l + ", '::') OR split_part(" + l + ", '::', 2) = '' THEN []::VARCHAR[] ELSE string_split(split_part(" + l + ", '::', 2), ':') END)"
	groups := "list_concat(" + head + ", list_transform(range(8 - len(" + head + ") - len(" + tail + ")), i -> '0'), " + tail + ")"
	hex := "array_to_string(list_transform(" + groups + ", g -> lpad(g, 4, '0')), '')"
	return "(CASE WHEN regexp_full_match(" + l + ", " + sqlString(ipv6Valid) + ") AND (NOT contains(" + l + ", '::') OR len(" + head + ") + len(" + tail + ") <= 7) THEN " + hex + " END)"
}

func (Trino) IPv6Hex(x string) string {
	// Trino parses addresses itself
	return "(CASE WHEN regexp_like(lower(" + x + "), " + sqlString(ipv6Valid) + ") THEN lower(to_hex(CAST(CAST(" + x + " AS IPADDRESS) AS VARBINARY))) END)"
}
