package analytics

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/harrier-ir/harrier/internal/store"
)

var familyCases = []struct {
	ua, want string
}{
	{"aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/macos#23.3.0 md/command#ec2.describe-instances", "aws-cli"},
	{"aws-cli/1.22.34 Python/3.11.8 Linux/6.5.0-kali3-amd64 botocore/1.23.34", "kali"},
	{"[aws-cli/2.11.6 Python/3.11.2 Darwin/22.6.0 exe/x86_64 prompt/off command/s3api.get-object]", "aws-cli"},
	{"Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/macos#23.4.0 md/arch#arm64 lang/python#3.12.2", "boto3"},
	{"Botocore/1.29.90 Python/3.11.8", "boto3"},
	{"Boto3/1.26.90 Python/3.11.8 Linux/6.5.0-kali3-amd64 Botocore/1.29.90", "kali"},
	{"Boto3/1.26.90 Python/3.11.8 Linux/6.1.0-parrot1-amd64 Botocore/1.29.90", "parrot"},
	{"Pacu/1.5.2 Boto3/1.26.90", "pacu"},
	{"TruffleHog", "trufflehog"},
	{"Linux/6.6.9-amd64 \u212aali-rolling", "kali"}, // a Kelvin sign folds to k in Go and DuckDB alike
	{"aws-sdk-go/1.44.260 (go1.21.9; linux; amd64) amazon-ssm-agent/3.3.380.0", "aws-sdk-go"},
	{"aws-sdk-go-v2/1.25.3 os/linux lang/go#1.21.8 md/GOOS#linux", "aws-sdk-go-v2"},
	{"APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.40.0 aws-sdk-go-v2/1.25.3", "terraform"},
	{"pulumi/3.110.0 aws-sdk-go/1.50.0", "pulumi"},
	{"aws-sdk-java/2.25.16 Linux/6.1.79-99.167.amzn2023.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS", "aws-sdk-java"},
	{"aws-sdk-nodejs/3.540.0 ua/2.0 os/linux#6.5.0-1017-azure lang/js md/nodejs#20.11.1", "aws-sdk-js"},
	{"aws-sdk-js/3.540.0", "aws-sdk-js"},
	{"console.amazonaws.com", "console"},
	{"console.ec2.amazonaws.com", "console"},
	{"signin.amazonaws.com", "console"},
	{"AWS Internal", "console"},
	{"[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.660 Linux/5.10.213]", "console"},
	{"cloudformation.amazonaws.com", "cloudformation"},
	{"athena.amazonaws.com", "aws-service"},
	{"python-requests/2.31.0", "python-requests"},
	{"curl/8.4.0", "curl"},
	{"S3 Browser/11.5.7 https://s3browser.com", "s3-browser"},
	{"Cyberduck/8.7.2.40975 (Mac OS X/14.3) (x86_64)", "cyberduck"},
	{"rclone/v1.66.0", "rclone"},
	{"Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0", "browser"},
	{"aws-sdk-dotnet-coreclr/3.7.300.2 aws-sdk-dotnet-core/3.7.300.2", "aws-sdk-dotnet-coreclr"},
	{"Go-http-client/1.1", "go-http-client"},
	{"[MyTool/2.0]", "mytool"},
	{"Ünïcode/1.0", "other"},
	{"", ""},
	{"   ", ""},
	{"\t", "other"},
}

func TestFamily(t *testing.T) {
	for _, c := range familyCases {
		if got := Family(c.ua); got != c.want {
			t.Errorf("Family(%q) = %q, want %q", c.ua, got, c.want)
		}
	}
}

// TestFamilySQL checks that DuckDB classifies exactly as Family does.
func TestFamilySQL(t *testing.T) {
	db := sqlOracle(t)
	for _, c := range familyCases {
		if got := familyInSQL(t, db, c.ua); got != c.want {
			t.Errorf("familySQL(%q) = %q, want %q", c.ua, got, c.want)
		}
	}
}

func FuzzFamily(f *testing.F) {
	for _, c := range familyCases {
		f.Add(c.ua)
	}
	db := sqlOracle(f)
	f.Fuzz(func(t *testing.T, ua string) {
		if !utf8.ValidString(ua) || containsNUL(ua) {
			return // DuckDB strings are UTF-8 without NUL
		}
		if got, want := familyInSQL(t, db, ua), Family(ua); got != want {
			t.Errorf("familySQL(%q) = %q, Family = %q", ua, got, want)
		}
	})
}

func containsNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}

func familyInSQL(t testing.TB, db *sql.DB, ua string) string {
	t.Helper()
	var got sql.NullString
	if err := db.QueryRow(`SELECT `+familySQL("ua")+` FROM (SELECT CAST(? AS VARCHAR) AS ua)`, ua).Scan(&got); err != nil {
		t.Fatal(err)
	}
	return got.String
}

var (
	oracleOnce sync.Once
	oracle     *store.Store
	oracleErr  error
)

// sqlOracle is an empty case database for checking SQL expressions against
// their Go references, shared by the tests and fuzz targets of a run.
func sqlOracle(t testing.TB) *sql.DB {
	t.Helper()
	oracleOnce.Do(func() {
		oracle, oracleErr = store.Open(context.Background(), scratch+"/oracle.duckdb", store.Options{})
	})
	if oracleErr != nil {
		t.Fatal(oracleErr)
	}
	return oracle.DB()
}
