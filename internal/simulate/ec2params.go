package simulate

import "strconv"

// EC2 write calls, shared by autoscaling in the background and the
// attacker. Shapes follow what CloudTrail records for each API.

// launch describes one RunInstances call.
type launch struct {
	acct, region   string
	image, itype   string
	count          int
	subnet, vpc    string
	sg, keyName    string
	tagKey, tagVal string
	ids            []string // instance ids the call returns
}

// runInstances fills a RunInstances request and, unless the call fails,
// its reservation.
func (r *record) runInstances(g *rng, l *launch) {
	r.req = append(r.req[:0], `{"instancesSet":{"items":[{"imageId":"`...)
	r.req = append(r.req, l.image...)
	r.req = append(r.req, `","minCount":`...)
	r.req = strconv.AppendInt(r.req, int64(l.count), 10)
	r.req = append(r.req, `,"maxCount":`...)
	r.req = strconv.AppendInt(r.req, int64(l.count), 10)
	if l.keyName != "" {
		r.req = append(r.req, `,"keyName":"`...)
		r.req = append(r.req, l.keyName...)
		r.req = append(r.req, '"')
	}
	r.req = append(r.req, `}]},"instanceType":"`...)
	r.req = append(r.req, l.itype...)
	r.req = append(r.req, `","blockDeviceMapping":{},"monitoring":{"enabled":false},"disableApiTermination":false,"disableApiStop":false,"clientToken":"`...)
	r.req = appendUUID(r.req, g)
	r.req = append(r.req, `","subnetId":"`...)
	r.req = append(r.req, l.subnet...)
	r.req = append(r.req, `","groupSet":{"items":[{"groupId":"`...)
	r.req = append(r.req, l.sg...)
	r.req = append(r.req, `"}]},"tagSpecificationSet":{"items":[{"resourceType":"instance","tags":[{"key":"`...)
	r.req = append(r.req, l.tagKey...)
	r.req = append(r.req, `","value":"`...)
	r.req = append(r.req, l.tagVal...)
	r.req = append(r.req, `"}]}]}}`...)
	if r.errCode != "" {
		return
	}
	r.resp = append(r.resp[:0], `{"requestId":"`...)
	r.resp = appendUUID(r.resp, g)
	r.resp = append(r.resp, `","reservationId":"r-0`...)
	r.resp = append(r.resp, fromAlphabet(g.u64(), 16, hexLower)...)
	r.resp = append(r.resp, `","ownerId":"`...)
	r.resp = append(r.resp, l.acct...)
	r.resp = append(r.resp, `","groupSet":{},"instancesSet":{"items":[`...)
	for i, id := range l.ids {
		if i > 0 {
			r.resp = append(r.resp, ',')
		}
		ip := "10.0." + strconv.Itoa(g.between(0, 63)) + "." + strconv.Itoa(g.between(4, 250))
		r.resp = append(r.resp, `{"instanceId":"`...)
		r.resp = append(r.resp, id...)
		r.resp = append(r.resp, `","imageId":"`...)
		r.resp = append(r.resp, l.image...)
		r.resp = append(r.resp, `","currentInstanceBootMode":"legacy-bios","instanceState":{"code":0,"name":"pending"},"privateDnsName":"ip-`...)
		for j := 0; j < len(ip); j++ {
			if ip[j] == '.' {
				r.resp = append(r.resp, '-')
			} else {
				r.resp = append(r.resp, ip[j])
			}
		}
		r.resp = append(r.resp, `.ec2.internal","amiLaunchIndex":`...)
		r.resp = strconv.AppendInt(r.resp, int64(i), 10)
		r.resp = append(r.resp, `,"productCodes":{},"instanceType":"`...)
		r.resp = append(r.resp, l.itype...)
		r.resp = append(r.resp, `","launchTime":`...)
		r.resp = strconv.AppendInt(r.resp, r.time*1000, 10)
		r.resp = append(r.resp, `,"placement":{"availabilityZone":"`...)
		r.resp = append(r.resp, l.region...)
		r.resp = append(r.resp, `a","tenancy":"default"},"monitoring":{"state":"disabled"},"subnetId":"`...)
		r.resp = append(r.resp, l.subnet...)
		r.resp = append(r.resp, `","vpcId":"`...)
		r.resp = append(r.resp, l.vpc...)
		r.resp = append(r.resp, `","privateIpAddress":"`...)
		r.resp = append(r.resp, ip...)
		r.resp = append(r.resp, `","stateReason":{"code":"pending","message":"pending"},"architecture":"x86_64","rootDeviceType":"ebs","rootDeviceName":"/dev/xvda","blockDeviceMapping":{},"virtualizationType":"hvm","hypervisor":"xen","groupSet":{"items":[{"groupId":"`...)
		r.resp = append(r.resp, l.sg...)
		r.resp = append(r.resp, `","groupName":"default"}]},"sourceDestCheck":true,"ebsOptimized":false,"enaSupport":true,"cpuOptions":{"coreCount":2,"threadsPerCore":2},"capacityReservationSpecification":{"capacityReservationPreference":"open"},"enclaveOptions":{"enabled":false},"metadataOptions":{"state":"pending","httpTokens":"required","httpPutResponseHopLimit":2,"httpEndpoint":"enabled","httpProtocolIpv4":"enabled","httpProtocolIpv6":"disabled","instanceMetadataTags":"disabled"},"maintenanceOptions":{"autoRecovery":"default"}}`...)
	}
	r.resp = append(r.resp, `]},"requesterId":"`...)
	r.resp = append(r.resp, l.acct...)
	r.resp = append(r.resp, `"}`...)
}

// terminateInstances fills TerminateInstances for one instance.
func (r *record) terminateInstances(g *rng, id string) {
	r.req = append(r.req[:0], `{"instancesSet":`...)
	r.req = instancesItems(r.req, id)
	r.req = append(r.req, '}')
	r.resp = append(r.resp[:0], `{"requestId":"`...)
	r.resp = appendUUID(r.resp, g)
	r.resp = append(r.resp, `","instancesSet":{"items":[{"instanceId":"`...)
	r.resp = append(r.resp, id...)
	r.resp = append(r.resp, `","currentState":{"code":32,"name":"shutting-down"},"previousState":{"code":16,"name":"running"}}]}}`...)
}

// createSnapshot fills CreateSnapshot of volume into snapshot.
func (r *record) createSnapshot(g *rng, acct, volume, snapshot, desc string, sizeGiB int) {
	r.req = append(r.req[:0], `{"volumeId":"`...)
	r.req = append(r.req, volume...)
	r.req = append(r.req, `","description":"`...)
	r.req = append(r.req, desc...)
	r.req = append(r.req, `"}`...)
	r.resp = append(r.resp[:0], `{"requestId":"`...)
	r.resp = appendUUID(r.resp, g)
	r.resp = append(r.resp, `","snapshotId":"`...)
	r.resp = append(r.resp, snapshot...)
	r.resp = append(r.resp, `","volumeId":"`...)
	r.resp = append(r.resp, volume...)
	r.resp = append(r.resp, `","status":"pending","startTime":`...)
	r.resp = strconv.AppendInt(r.resp, r.time*1000, 10)
	r.resp = append(r.resp, `,"progress":"","ownerId":"`...)
	r.resp = append(r.resp, acct...)
	r.resp = append(r.resp, `","volumeSize":`...)
	r.resp = strconv.AppendInt(r.resp, int64(sizeGiB), 10)
	r.resp = append(r.resp, `,"encrypted":false,"description":"`...)
	r.resp = append(r.resp, desc...)
	r.resp = append(r.resp, `"}`...)
}

// shareSnapshot fills ModifySnapshotAttribute adding createVolumePermission
// for another account: the way EBS data leaves an account.
func (r *record) shareSnapshot(g *rng, snapshot, toAccount string) {
	r.req = append(r.req[:0], `{"snapshotId":"`...)
	r.req = append(r.req, snapshot...)
	r.req = append(r.req, `","createVolumePermission":{"add":{"items":[{"userId":"`...)
	r.req = append(r.req, toAccount...)
	r.req = append(r.req, `"}]}},"attributeType":"CREATE_VOLUME_PERMISSION"}`...)
	r.resp = append(r.resp[:0], `{"requestId":"`...)
	r.resp = appendUUID(r.resp, g)
	r.resp = append(r.resp, `","_return":true}`...)
}
