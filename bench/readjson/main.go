// Command readjson loads CloudTrail log files into a table with DuckDB's own
// read_json, extracting the same columns harrier's events table has: the
// yardstick bench/ingest.sh compares harrier ingest with.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/harrier-ir/harrier/internal/store"
)

const load = `CREATE TABLE events AS
SELECT
  TRY_CAST(r->>'$.eventTime' AS TIMESTAMP) AS event_time, r->>'$.eventID' AS event_id, r->>'$.eventName' AS event_name,
  r->>'$.eventSource' AS event_source, r->>'$.awsRegion' AS aws_region, r->>'$.sourceIPAddress' AS source_ip,
  r->>'$.userAgent' AS user_agent, r->>'$.errorCode' AS error_code, r->>'$.errorMessage' AS error_message,
  TRY_CAST(r->>'$.readOnly' AS BOOLEAN) AS read_only, r->>'$.eventType' AS event_type, r->>'$.eventCategory' AS event_category,
  TRY_CAST(r->>'$.managementEvent' AS BOOLEAN) AS management_event, r->>'$.recipientAccountId' AS recipient_account_id,
  r->>'$.sharedEventID' AS shared_event_id, r->>'$.requestID' AS request_id, r->>'$.eventVersion' AS event_version,
  r->>'$.vpcEndpointId' AS vpc_endpoint_id, r->>'$.userIdentity.type' AS identity_type, r->>'$.userIdentity.arn' AS identity_arn,
  r->>'$.userIdentity.principalId' AS principal_id, r->>'$.userIdentity.accountId' AS identity_account_id,
  r->>'$.userIdentity.accessKeyId' AS access_key_id, r->>'$.userIdentity.userName' AS user_name,
  r->>'$.userIdentity.sessionContext.sessionIssuer.type' AS session_issuer_type,
  r->>'$.userIdentity.sessionContext.sessionIssuer.arn' AS session_issuer_arn,
  r->>'$.userIdentity.sessionContext.sessionIssuer.userName' AS session_issuer_name,
  r->>'$.userIdentity.sessionContext.sessionIssuer.accountId' AS session_issuer_account_id,
  TRY_CAST(r->>'$.userIdentity.sessionContext.attributes.mfaAuthenticated' AS BOOLEAN) AS mfa_authenticated,
  TRY_CAST(r->>'$.userIdentity.sessionContext.attributes.creationDate' AS TIMESTAMP) AS session_created,
  r->>'$.userIdentity.invokedBy' AS invoked_by,
  coalesce(r->>'$.userIdentity.identityProvider', r->>'$.userIdentity.sessionContext.webIdFederationData.federatedProvider') AS identity_provider,
  r->>'$.userIdentity.sessionContext.sourceIdentity' AS source_identity,
  (r->'$.requestParameters')::VARCHAR AS request_parameters, (r->'$.responseElements')::VARCHAR AS response_elements,
  (r->'$.additionalEventData')::VARCHAR AS additional_event_data, (r->'$.resources')::VARCHAR AS resources,
  r::VARCHAR AS raw, filename AS evidence_file
FROM (SELECT unnest(Records) AS r, filename
      FROM read_json('%s', columns = {Records: 'JSON[]'}, filename = true, maximum_object_size = 67108864))`

func main() {
	mem := flag.String("memory", "1GB", "DuckDB memory_limit")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: readjson [-memory 1GB] EVIDENCE_DIR DB_FILE")
		os.Exit(2)
	}
	ctx := context.Background()
	dbFile := flag.Arg(1)
	os.Remove(dbFile)
	os.Remove(dbFile + ".wal")
	st, err := store.Open(ctx, dbFile, store.Options{MemoryLimit: *mem, TempDir: filepath.Dir(dbFile) + "/readjson.tmp"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer st.Close()
	glob := filepath.Join(flag.Arg(0), "**", "*.json.gz") // trail logs; the simulated set has no digests
	start := time.Now()
	if _, err := st.DB().ExecContext(ctx, `DROP TABLE events`); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if _, err := st.DB().ExecContext(ctx, fmt.Sprintf(load, strings.ReplaceAll(glob, "'", "''"))); err != nil {
		fmt.Fprintln(os.Stderr, "read_json:", err)
		os.Exit(1)
	}
	var n int64
	st.DB().QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n)
	el := time.Since(start).Seconds()
	fmt.Printf("read_json: %d events in %.2fs: %.0f events/s\n", n, el, float64(n)/el)
}
