package respond

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/harrier-ir/harrier/internal/awstest"
	"github.com/harrier-ir/harrier/internal/casefile"
)

var t0 = time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)

func clientsFor(endpoint string) *Clients {
	cfg := awstest.Config(endpoint)
	return &Clients{Region: cfg.Region, STS: sts.NewFromConfig(cfg), IAM: iam.NewFromConfig(cfg), EC2: ec2.NewFromConfig(cfg),
		AutoScaling: autoscaling.NewFromConfig(cfg), ELB: elb.NewFromConfig(cfg)}
}

// memLog is an audit log in memory: the records as they would be written.
type memLog struct{ recs []json.RawMessage }

func (m *memLog) record(a Action) error {
	b, err := json.Marshal(a)
	m.recs = append(m.recs, b)
	return err
}

func (m *memLog) actions(t *testing.T) []Action {
	t.Helper()
	all, err := ParseActions(m.recs)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func apply(t *testing.T, c *Clients, p *Plan, log *memLog, kind string) Result {
	t.Helper()
	res, err := Apply(context.Background(), c, p, ApplyOptions{Operator: casefile.Operator{User: "responder"}, Now: func() time.Time { return t0 }, Record: log.record, Kind: kind})
	if err != nil {
		t.Fatalf("apply: %v (outcomes %+v)", err, res.Outcomes)
	}
	return res
}

// undoRun plans and applies the reverse of a whole run.
func undoRun(t *testing.T, c *Clients, log *memLog, run string) *Plan {
	t.Helper()
	all := log.actions(t)
	sel, err := Select(all, []string{run})
	if err != nil {
		t.Fatal(err)
	}
	up, err := PlanUndo(context.Background(), c, "case-1", all, sel, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	apply(t, c, up, log, "undo")
	return up
}

func keyStatus(t *testing.T, c *Clients, user, key string) string {
	t.Helper()
	s, err := readKeyStatus(context.Background(), c, map[string]string{"UserName": user, "AccessKeyId": key})
	if err != nil {
		t.Fatal(err)
	}
	return s["status"]
}

// TestKeyContainRoundTrip: plan, apply and undo a key's containment on
// moto, checked by the emulator's state.
func TestKeyContainRoundTrip(t *testing.T) {
	srv := awstest.Moto(t)
	ctx := context.Background()
	c := clientsFor(srv.URL)
	if _, err := c.IAM.(*iam.Client).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mallory")}); err != nil {
		t.Fatal(err)
	}
	k, err := c.IAM.(*iam.Client).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("mallory")})
	if err != nil {
		t.Fatal(err)
	}
	key := aws.ToString(k.AccessKey.AccessKeyId)
	if _, err := c.IAM.(*iam.Client).CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("mallory"), Password: aws.String("Not-a-real-pw-1!")}); err != nil {
		t.Fatal(err)
	}
	p, err := Begin(ctx, c, "case-1", "key "+key, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := PlanKey(ctx, c, p, key); err != nil {
		t.Fatal(err)
	}
	var apis []string
	for _, s := range p.Steps {
		apis = append(apis, s.API)
	}
	if got := strings.Join(apis, ","); got != "UpdateAccessKey,PutUserPolicy,DeleteLoginProfile" {
		t.Fatalf("steps %s", got)
	}
	if p.Steps[0].Before["status"] != "Active" || p.Steps[2].Before["login_profile"] != "present" {
		t.Errorf("states before: %+v", p.Steps)
	}
	// planning changed nothing
	if keyStatus(t, c, "mallory", key) != "Active" {
		t.Fatal("the plan changed the key")
	}
	log := &memLog{}
	res := apply(t, c, p, log, "contain")
	if len(res.Applied()) != 3 {
		t.Fatalf("applied %v", res.Outcomes)
	}
	if keyStatus(t, c, "mallory", key) != "Inactive" {
		t.Error("the key is still active")
	}
	pol, err := c.IAM.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("mallory"), PolicyName: aws.String("HarrierContain-case-1")})
	if err != nil || CanonicalPolicy(aws.ToString(pol.PolicyDocument)) != CanonicalPolicy(DenyAll) {
		t.Errorf("deny-all policy: %v %v", pol, err)
	}
	if _, err := c.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("mallory")}); !isCode(err, "NoSuchEntity") {
		t.Errorf("login profile still there: %v", err)
	}
	acts := log.actions(t)
	if acts[0].ID != p.ID+".1" || acts[0].Before["status"] != "Active" || acts[0].After["status"] != "Inactive" || acts[0].Undo == nil ||
		acts[2].Undo != nil || !strings.Contains(acts[2].UndoNote, "cannot be restored") || acts[0].Operator.User != "responder" || acts[0].Account == "" {
		t.Errorf("audit records: %+v", acts)
	}
	// applying the same plan again: every step is already in effect
	again := apply(t, c, p, log, "contain")
	for _, o := range again.Outcomes {
		if o.Status != "skipped" {
			t.Errorf("re-apply: step %s %s", o.Step.ID, o.Status)
		}
	}
	up := undoRun(t, c, log, p.ID)
	if keyStatus(t, c, "mallory", key) != "Active" {
		t.Error("undo left the key inactive")
	}
	if _, err := c.IAM.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("mallory"), PolicyName: aws.String("HarrierContain-case-1")}); !isCode(err, "NoSuchEntity") {
		t.Errorf("undo left the policy: %v", err)
	}
	if !strings.Contains(strings.Join(up.Notes, "\n"), "cannot be undone") {
		t.Errorf("undo notes: %v", up.Notes)
	}
	// undoing twice plans nothing
	all := log.actions(t)
	sel, _ := Select(all, []string{p.ID})
	again2, err := PlanUndo(ctx, c, "case-1", all, sel, t0.Add(2*time.Minute))
	if err != nil || len(again2.Steps) != 0 {
		t.Errorf("second undo: %v %+v", err, again2)
	}
}

func TestTemporaryKeyRefused(t *testing.T) {
	p := &Plan{}
	err := PlanKey(context.Background(), &Clients{}, p, "ASIAEXAMPLE000000001")
	if !errors.Is(err, ErrTemporaryKey) || !strings.Contains(err.Error(), "revoking the sessions") {
		t.Errorf("err = %v", err)
	}
}

func TestPolicyNamesEveryOp(t *testing.T) {
	for _, name := range OpNames() {
		if !strings.Contains(IAMPolicy+CollectIAMPolicy, `"`+name+`"`) { // contain's ops, collect instance's
			t.Errorf("the IAM policy lacks %s", name)
		}
	}
	var v any
	if err := json.Unmarshal([]byte(IAMPolicy), &v); err != nil {
		t.Fatal(err)
	}
}

// TestPolicyDeletesOnlyTagged: every EC2 Delete*/Detach* the policies allow
// is conditioned on the harrier:case tag (what harrier made), but for the
// instance side of DetachVolume.
func TestPolicyDeletesOnlyTagged(t *testing.T) {
	for name, doc := range map[string]string{"contain": IAMPolicy, "collect": CollectIAMPolicy} {
		var pol struct {
			Statement []struct {
				Sid       string
				Action    []string
				Resource  any
				Condition map[string]map[string]any
			}
		}
		if err := json.Unmarshal([]byte(doc), &pol); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, st := range pol.Statement {
			for _, a := range st.Action {
				if !strings.HasPrefix(a, "ec2:Delete") && !strings.HasPrefix(a, "ec2:Detach") || a == "ec2:DeleteTags" {
					continue
				}
				if st.Resource == "arn:aws:ec2:*:*:instance/*" && a == "ec2:DetachVolume" {
					continue
				}
				if st.Condition["StringLike"]["aws:ResourceTag/harrier:case"] == nil {
					t.Errorf("%s: %s (%s) is not conditioned on the harrier:case tag", name, a, st.Sid)
				}
			}
		}
	}
}

// TestPolicyNoUnconditionedDeleteOrTag: no statement of either policy
// allows a Delete*, CreateTags or DeleteTags on every resource without a
// condition. Tagging anything would let a holder put harrier:case on any
// group, ACL or volume and then delete it under the tag conditions;
// CreateTags is allowed only at creation (ec2:CreateAction) or for the
// harrier:case key alone (aws:TagKeys), DeleteTags only on instances.
func TestPolicyNoUnconditionedDeleteOrTag(t *testing.T) {
	for name, doc := range map[string]string{"contain": IAMPolicy, "collect": CollectIAMPolicy} {
		var pol struct {
			Statement []struct {
				Sid       string
				Action    []string
				Resource  any
				Condition map[string]map[string]any
			}
		}
		if err := json.Unmarshal([]byte(doc), &pol); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, st := range pol.Statement {
			everything := st.Resource == "*"
			if rs, ok := st.Resource.([]any); ok {
				for _, r := range rs {
					everything = everything || r == "*"
				}
			}
			for _, a := range st.Action {
				_, api, _ := strings.Cut(a, ":")
				if !strings.HasPrefix(api, "Delete") && api != "CreateTags" {
					continue
				}
				if everything && len(st.Condition) == 0 {
					t.Errorf("%s: %s (%s) is allowed on every resource without a condition", name, a, st.Sid)
				}
				switch a {
				case "ec2:CreateTags":
					if st.Condition["StringEquals"]["ec2:CreateAction"] == nil && st.Condition["ForAllValues:StringEquals"]["aws:TagKeys"] == nil {
						t.Errorf("%s: %s (%s) is neither at creation nor limited to harrier's tag keys", name, a, st.Sid)
					}
					if st.Condition["ForAllValues:StringEquals"]["aws:TagKeys"] != nil && st.Resource != "arn:aws:ec2:*:*:instance/*" {
						t.Errorf("%s: %s (%s) tags more than instances after creation: %v", name, a, st.Sid, st.Resource)
					}
				case "ec2:DeleteTags":
					if st.Resource != "arn:aws:ec2:*:*:instance/*" || st.Condition["ForAllValues:StringEquals"]["aws:TagKeys"] == nil {
						t.Errorf("%s: %s (%s) is not limited to harrier's tag on instances: %v", name, a, st.Sid, st.Resource)
					}
				}
			}
		}
	}
}
