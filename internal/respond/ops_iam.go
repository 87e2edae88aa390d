package respond

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// The IAM ops: an access key's status, inline policies of users and
// roles, console login profiles, and roles in instance profiles.
func init() {
	Register(Op{Service: "iam", API: "UpdateAccessKey", Read: readKeyStatus,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			if err := c.need("iam", c.IAM != nil); err != nil {
				return nil, nil, err
			}
			out, err := c.IAM.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(p["UserName"]), AccessKeyId: aws.String(p["AccessKeyId"]), Status: iamStatus(p["Status"])})
			return out, nil, err
		},
		Reverse: func(p map[string]string, before State, _ map[string]string) (Step, bool, string) {
			return Step{Op: "iam:UpdateAccessKey", Resource: p["AccessKeyId"], Params: map[string]string{"UserName": p["UserName"], "AccessKeyId": p["AccessKeyId"], "Status": before["status"]},
				After: State{"status": before["status"]}, Effect: "set the access key's status back to " + before["status"]}, before["status"] != "", ""
		}})
	for _, kind := range []string{"User", "Role"} {
		kind := kind
		Register(Op{Service: "iam", API: "Put" + kind + "Policy", Read: readInline(kind),
			Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
				return putInline(ctx, c, kind, p)
			},
			Reverse: reverseInline(kind)})
		Register(Op{Service: "iam", API: "Delete" + kind + "Policy", Read: readInline(kind),
			Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
				if err := c.need("iam", c.IAM != nil); err != nil {
					return nil, nil, err
				}
				if kind == "User" {
					out, err := c.IAM.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(p["UserName"]), PolicyName: aws.String(p["PolicyName"])})
					return out, nil, err
				}
				out, err := c.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(p["RoleName"]), PolicyName: aws.String(p["PolicyName"])})
				return out, nil, err
			},
			Reverse: reverseInline(kind)})
	}
	Register(Op{Service: "iam", API: "DeleteLoginProfile", Read: readLoginProfile,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			if err := c.need("iam", c.IAM != nil); err != nil {
				return nil, nil, err
			}
			out, err := c.IAM.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String(p["UserName"])})
			return out, nil, err
		},
		Reverse: func(p map[string]string, _ State, _ map[string]string) (Step, bool, string) {
			return Step{}, false, "the console password cannot be restored: if console access must come back, create a new login profile (aws iam create-login-profile --user-name " + p["UserName"] + " --password-reset-required)"
		}})
	for _, api := range []string{"RemoveRoleFromInstanceProfile", "AddRoleToInstanceProfile"} {
		api := api
		Register(Op{Service: "iam", API: api, Read: readRoleInProfile,
			Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
				if err := c.need("iam", c.IAM != nil); err != nil {
					return nil, nil, err
				}
				if api == "RemoveRoleFromInstanceProfile" {
					out, err := c.IAM.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{RoleName: aws.String(p["RoleName"]), InstanceProfileName: aws.String(p["InstanceProfileName"])})
					return out, nil, err
				}
				out, err := c.IAM.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{RoleName: aws.String(p["RoleName"]), InstanceProfileName: aws.String(p["InstanceProfileName"])})
				return out, nil, err
			},
			Reverse: func(p map[string]string, before State, _ map[string]string) (Step, bool, string) {
				back, effect := "AddRoleToInstanceProfile", "put the role back in the instance profile"
				if api == "AddRoleToInstanceProfile" {
					back, effect = "RemoveRoleFromInstanceProfile", "take the role out of the instance profile"
				}
				return Step{Op: "iam:" + back, Resource: p["InstanceProfileName"], Params: map[string]string{"RoleName": p["RoleName"], "InstanceProfileName": p["InstanceProfileName"]},
					After: before, Effect: effect}, true, ""
			}})
	}
}

func iamStatus(s string) iamtypes.StatusType { return iamtypes.StatusType(s) }

// readKeyStatus: {"status": "Active"|"Inactive"}, empty when the key is
// not the user's.
func readKeyStatus(ctx context.Context, c *Clients, p map[string]string) (State, error) {
	if err := c.need("iam", c.IAM != nil); err != nil {
		return nil, err
	}
	pg := iam.NewListAccessKeysPaginator(c.IAM, &iam.ListAccessKeysInput{UserName: aws.String(p["UserName"])})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, k := range out.AccessKeyMetadata {
			if aws.ToString(k.AccessKeyId) == p["AccessKeyId"] {
				return State{"status": string(k.Status)}, nil
			}
		}
	}
	return State{}, nil
}

// readInline: {"document": canonical JSON} of the named inline policy,
// empty when there is none.
func readInline(kind string) func(context.Context, *Clients, map[string]string) (State, error) {
	return func(ctx context.Context, c *Clients, p map[string]string) (State, error) {
		if err := c.need("iam", c.IAM != nil); err != nil {
			return nil, err
		}
		var doc *string
		var err error
		if kind == "User" {
			var out *iam.GetUserPolicyOutput
			if out, err = c.IAM.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(p["UserName"]), PolicyName: aws.String(p["PolicyName"])}); err == nil {
				doc = out.PolicyDocument
			}
		} else {
			var out *iam.GetRolePolicyOutput
			if out, err = c.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(p["RoleName"]), PolicyName: aws.String(p["PolicyName"])}); err == nil {
				doc = out.PolicyDocument
			}
		}
		if isCode(err, "NoSuchEntity") {
			return State{}, nil
		}
		if err != nil {
			return nil, err
		}
		return State{"document": CanonicalPolicy(aws.ToString(doc))}, nil
	}
}

func putInline(ctx context.Context, c *Clients, kind string, p map[string]string) (any, map[string]string, error) {
	if err := c.need("iam", c.IAM != nil); err != nil {
		return nil, nil, err
	}
	if kind == "User" {
		out, err := c.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(p["UserName"]), PolicyName: aws.String(p["PolicyName"]), PolicyDocument: aws.String(p["PolicyDocument"])})
		return out, nil, err
	}
	out, err := c.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(p["RoleName"]), PolicyName: aws.String(p["PolicyName"]), PolicyDocument: aws.String(p["PolicyDocument"])})
	return out, nil, err
}

// reverseInline restores an inline policy as it was: deleted if there was
// none, its old document otherwise.
func reverseInline(kind string) func(map[string]string, State, map[string]string) (Step, bool, string) {
	return func(p map[string]string, before State, _ map[string]string) (Step, bool, string) {
		who := kind + "Name"
		params := map[string]string{who: p[who], "PolicyName": p["PolicyName"]}
		if before["document"] == "" {
			return Step{Op: "iam:Delete" + kind + "Policy", Resource: p[who], Params: params, After: State{},
				Effect: "delete the inline policy " + p["PolicyName"]}, true, ""
		}
		params["PolicyDocument"] = before["document"]
		return Step{Op: "iam:Put" + kind + "Policy", Resource: p[who], Params: params, After: State{"document": before["document"]},
			Effect: "restore the inline policy " + p["PolicyName"] + " as it was"}, true, ""
	}
}

// readLoginProfile: {"login_profile": "present", "created": ...} or empty.
func readLoginProfile(ctx context.Context, c *Clients, p map[string]string) (State, error) {
	if err := c.need("iam", c.IAM != nil); err != nil {
		return nil, err
	}
	out, err := c.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(p["UserName"])})
	if isCode(err, "NoSuchEntity") {
		return State{}, nil
	}
	if err != nil {
		return nil, err
	}
	s := State{"login_profile": "present"}
	if lp := out.LoginProfile; lp != nil {
		if lp.CreateDate != nil {
			s["created"] = lp.CreateDate.UTC().Format(timeFormat)
		}
		if lp.PasswordResetRequired {
			s["password_reset_required"] = "true"
		}
	}
	return s, nil
}

// readRoleInProfile: {"role_in_profile": "true"|"false"}.
func readRoleInProfile(ctx context.Context, c *Clients, p map[string]string) (State, error) {
	if err := c.need("iam", c.IAM != nil); err != nil {
		return nil, err
	}
	pg := iam.NewListInstanceProfilesForRolePaginator(c.IAM, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String(p["RoleName"])})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, ip := range out.InstanceProfiles {
			if aws.ToString(ip.InstanceProfileName) == p["InstanceProfileName"] {
				return State{"role_in_profile": "true"}, nil
			}
		}
	}
	return State{"role_in_profile": "false"}, nil
}

// CanonicalPolicy renders a policy document as IAM returns it (URL-encoded)
// or as written, as compact JSON with sorted keys, so that two spellings
// of one policy compare equal. Text that is not JSON is returned as is.
func CanonicalPolicy(doc string) string {
	if strings.HasPrefix(doc, "%") {
		if d, err := url.QueryUnescape(doc); err == nil {
			doc = d
		}
	}
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return doc
	}
	b, err := json.Marshal(v)
	if err != nil {
		return doc
	}
	return string(b)
}

// isCode says whether err is an AWS error response with one of codes.
func isCode(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}

// timeFormat is how times are written in states and notes: UTC, seconds.
const timeFormat = "2006-01-02T15:04:05Z"
