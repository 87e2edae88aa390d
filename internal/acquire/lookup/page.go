package lookup

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
)

// page is one LookupEvents response in the shape `aws cloudtrail
// lookup-events` prints it: the shape internal/cloudtrail's decoder reads
// as FormatLookupEvents. Events comes first so the decoder streams it;
// absent members are left out, as the CLI leaves them out.
type page struct {
	Events    []item  `json:"Events"`
	NextToken *string `json:"NextToken,omitempty"`
}

// item is one event of a page, its members in the API's order.
type item struct {
	EventId         *string    `json:"EventId,omitempty"`
	EventName       *string    `json:"EventName,omitempty"`
	ReadOnly        *string    `json:"ReadOnly,omitempty"`
	AccessKeyId     *string    `json:"AccessKeyId,omitempty"`
	EventTime       string     `json:"EventTime,omitempty"`
	EventSource     *string    `json:"EventSource,omitempty"`
	Username        *string    `json:"Username,omitempty"`
	Resources       []resource `json:"Resources,omitempty"`
	CloudTrailEvent *string    `json:"CloudTrailEvent,omitempty"`
}

type resource struct {
	ResourceType *string `json:"ResourceType,omitempty"`
	ResourceName *string `json:"ResourceName,omitempty"`
}

// cliTime formats a timestamp as AWS CLI v2 prints it (ISO 8601 with a
// numeric offset, Python's isoformat), in UTC so the evidence does not
// depend on the responder's time zone.
func cliTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02T15:04:05-07:00")
	}
	return t.Format("2006-01-02T15:04:05.000000-07:00")
}

// render turns a response into the bytes stored as evidence, indented by
// four spaces as the CLI indents.
func render(out *cloudtrail.LookupEventsOutput) ([]byte, error) {
	p := page{Events: make([]item, 0, len(out.Events)), NextToken: out.NextToken}
	if p.NextToken != nil && *p.NextToken == "" {
		p.NextToken = nil
	}
	for _, e := range out.Events {
		p.Events = append(p.Events, renderEvent(e))
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func renderEvent(e types.Event) item {
	it := item{EventId: e.EventId, EventName: e.EventName, ReadOnly: e.ReadOnly, AccessKeyId: e.AccessKeyId,
		EventSource: e.EventSource, Username: e.Username, CloudTrailEvent: e.CloudTrailEvent}
	if e.EventTime != nil {
		it.EventTime = cliTime(*e.EventTime)
	}
	for _, r := range e.Resources {
		it.Resources = append(it.Resources, resource{ResourceType: r.ResourceType, ResourceName: r.ResourceName})
	}
	return it
}
