package respond

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/harrier-ir/harrier/internal/awstest"
)

// TestUndoRefusesEditedLog: an undo recorded in the audit log that is not
// the one the action's op builds from its request, state and outputs (a
// log line edited to reactivate another key, to call another op, or to
// leave another state) is refused before any call.
func TestUndoRefusesEditedLog(t *testing.T) {
	srv := awstest.Moto(t)
	ctx := context.Background()
	c := clientsFor(srv.URL)
	ic := c.IAM.(*iam.Client)
	if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mallory")}); err != nil {
		t.Fatal(err)
	}
	k, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("mallory")})
	if err != nil {
		t.Fatal(err)
	}
	key := aws.ToString(k.AccessKey.AccessKeyId)
	p, err := Begin(ctx, c, "case-1", "key "+key, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := PlanKey(ctx, c, p, key); err != nil {
		t.Fatal(err)
	}
	log := &memLog{}
	apply(t, c, p, log, "contain")
	tests := []struct {
		name string
		edit func(a *Action)
		bad  bool
	}{
		{"as recorded", func(*Action) {}, false},
		{"another key", func(a *Action) { a.Undo.Params["AccessKeyId"] = "AKIAOTHERKEY00000001" }, true},
		{"another op", func(a *Action) { a.Undo.Op = "iam:DeleteUserPolicy" }, true},
		{"another state", func(a *Action) { a.Undo.After = State{"status": "Inactive"} }, true},
		{"another resource", func(a *Action) { a.Undo.Resource = "AKIAOTHERKEY00000001" }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			all := log.actions(t) // a fresh copy of the log
			first := &all[0]
			tc.edit(first)
			_, err := PlanUndo(ctx, c, "case-1", all, []Action{*first}, t0.Add(time.Minute))
			if tc.bad != errors.Is(err, ErrUndoMismatch) || !tc.bad && err != nil {
				t.Errorf("err = %v", err)
			}
		})
	}
}
