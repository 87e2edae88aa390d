package cloudtrail

import (
	"bytes"
	"strings"

	"github.com/goccy/go-json"
)

// resourceParams holds the request parameters that name the target of a
// call across the services responders meet most. Values are kept raw so a
// field of an unexpected type cannot fail the decode.
type resourceParams struct {
	BucketName           json.RawMessage `json:"bucketName"`
	Key                  json.RawMessage `json:"key"`
	UserName             json.RawMessage `json:"userName"`
	RoleName             json.RawMessage `json:"roleName"`
	RoleArn              json.RawMessage `json:"roleArn"`
	PolicyArn            json.RawMessage `json:"policyArn"`
	GroupName            json.RawMessage `json:"groupName"`
	InstanceProfileName  json.RawMessage `json:"instanceProfileName"`
	AccessKeyID          json.RawMessage `json:"accessKeyId"`
	FunctionName         json.RawMessage `json:"functionName"`
	SecretID             json.RawMessage `json:"secretId"`
	TrailName            json.RawMessage `json:"trailName"`
	Name                 json.RawMessage `json:"name"`
	LogGroupName         json.RawMessage `json:"logGroupName"`
	KeyID                json.RawMessage `json:"keyId"`
	SnapshotID           json.RawMessage `json:"snapshotId"`
	VolumeID             json.RawMessage `json:"volumeId"`
	ImageID              json.RawMessage `json:"imageId"`
	InstanceID           json.RawMessage `json:"instanceId"`
	GroupID              json.RawMessage `json:"groupId"`
	DetectorID           json.RawMessage `json:"detectorId"`
	DBInstanceIdentifier json.RawMessage `json:"dBInstanceIdentifier"`
	DBSnapshotIdentifier json.RawMessage `json:"dBSnapshotIdentifier"`
	InstancesSet         json.RawMessage `json:"instancesSet"` // see instancesSet
}

// instancesSet is the EC2 list of instances a call names (RunInstances,
// StartInstances ...). It is decoded on its own so that an odd shape there
// cannot cost the other parameters.
type instancesSet struct {
	Items []struct {
		InstanceID json.RawMessage `json:"instanceId"`
		ImageID    json.RawMessage `json:"imageId"`
	} `json:"items"`
}

// Resource names, in one short string, what an API call acted on
// ("s3://bucket/key", "user/alice", "i-0abc..."), for one-line timelines.
// It reads the request parameters first, then the resources list; it
// returns "" when neither names anything.
func Resource(source, name string, requestParameters, resources []byte) string {
	if len(requestParameters) > 0 && requestParameters[0] == '{' {
		var p resourceParams
		if json.Unmarshal(requestParameters, &p) == nil {
			if r := p.summary(source); r != "" {
				return r
			}
		}
	}
	if len(resources) > 0 && resources[0] == '[' {
		var rs []struct {
			ARN json.RawMessage `json:"ARN"`
		}
		if json.Unmarshal(resources, &rs) == nil {
			for _, r := range rs {
				if a := str(r.ARN); a != "" {
					return a
				}
			}
		}
	}
	return ""
}

func (p *resourceParams) summary(source string) string {
	if b := str(p.BucketName); b != "" {
		if k := str(p.Key); k != "" {
			return "s3://" + b + "/" + k
		}
		return "s3://" + b
	}
	labelled := []struct {
		label string
		v     json.RawMessage
	}{
		{"user/", p.UserName}, {"role/", p.RoleName}, {"", p.RoleArn}, {"", p.PolicyArn},
		{"group/", p.GroupName}, {"instance-profile/", p.InstanceProfileName}, {"", p.AccessKeyID},
		{"function/", p.FunctionName}, {"secret/", p.SecretID}, {"trail/", p.TrailName},
		{"log-group/", p.LogGroupName}, {"", p.SnapshotID}, {"", p.VolumeID}, {"", p.InstanceID},
		{"", p.ImageID}, {"", p.GroupID}, {"detector/", p.DetectorID}, {"db/", p.DBInstanceIdentifier},
		{"db-snapshot/", p.DBSnapshotIdentifier}, {"key/", p.KeyID},
	}
	for _, l := range labelled {
		if v := str(l.v); v != "" {
			if strings.HasPrefix(v, "arn:") { // many APIs take a name or an ARN
				return v
			}
			// an ARN or a labelled name; the user named in a call on a key
			// or policy is the owner, so name it with the key when both exist
			if l.label == "user/" && str(p.AccessKeyID) != "" {
				return str(p.AccessKeyID) + " (user/" + v + ")"
			}
			return l.label + v
		}
	}
	var set instancesSet
	if len(p.InstancesSet) > 0 && p.InstancesSet[0] == '{' && json.Unmarshal(p.InstancesSet, &set) == nil {
		var ids []string
		for _, it := range set.Items {
			if id := str(it.InstanceID); id != "" {
				ids = append(ids, id)
			} else if id := str(it.ImageID); id != "" {
				ids = append(ids, id)
			}
		}
		if len(ids) > 0 {
			if len(ids) > 3 {
				return strings.Join(ids[:3], ",") + ",…"
			}
			return strings.Join(ids, ",")
		}
	}
	if n := str(p.Name); n != "" {
		switch {
		case strings.HasPrefix(n, "arn:"):
			return n
		case strings.HasPrefix(source, "cloudtrail."):
			return "trail/" + n
		case strings.HasPrefix(source, "ssm."):
			return "parameter/" + strings.TrimPrefix(n, "/") // as in the parameter's ARN
		}
		return n
	}
	return ""
}

// str returns a raw JSON value as text: a string's content, or nothing for
// other types (an id is always a string in CloudTrail).
func str(r json.RawMessage) string {
	if len(r) < 2 || r[0] != '"' {
		return ""
	}
	// the common case, a plain string, needs no decoder
	if body := r[1 : len(r)-1]; r[len(r)-1] == '"' && bytes.IndexByte(body, '\\') < 0 && bytes.IndexByte(body, '"') < 0 {
		return string(body)
	}
	var s string
	if json.Unmarshal(r, &s) != nil {
		return ""
	}
	return s
}
