package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tandemhq/tandem/internal/money"
)

// Campaign is a marketing campaign: what it aims for, when it runs and what
// it may spend.
type Campaign struct {
	ID              string
	Name            string
	Product         string
	GoalConversions int64
	StartsOn        string // YYYY-MM-DD
	EndsOn          string // YYYY-MM-DD, the last day
	Budget          decimal.Decimal
	MaxSend         decimal.Decimal // what one send may spend
	Currency        string
}

// Audience is a group of people a campaign can reach.
type Audience struct {
	ID          string
	Name        string
	Description string
	Size        int64
}

// Content is a published piece of a campaign: an email or a social post.
type Content struct {
	ID          string // <campaign>-V<n>
	PublishKey  string // the run and step that published it
	CampaignID  string
	Channel     string // email, social
	Variant     string
	Subject     string
	Body        string
	ApprovedBy  string
	PublishedAt string
}

// Send is one scheduled send of published content to an audience.
type Send struct {
	Key        string // the run and step that scheduled it
	CampaignID string
	ContentID  string
	AudienceID string
	SendOn     string // YYYY-MM-DD
	Spend      decimal.Decimal
}

// Performance is what sends achieved, as results reported it.
type Performance struct {
	Sent        int64
	Opens       int64
	Clicks      int64
	Conversions int64
	Spend       decimal.Decimal
}

func (p *Performance) add(q Performance) {
	p.Sent, p.Opens, p.Clicks, p.Conversions = p.Sent+q.Sent, p.Opens+q.Opens, p.Clicks+q.Clicks, p.Conversions+q.Conversions
	p.Spend = p.Spend.Add(q.Spend)
}

// ContentReview is one piece of content with its sends and results.
type ContentReview struct {
	Content
	Sends     int
	Scheduled decimal.Decimal // spend of its sends
	Results   Performance
}

// CampaignReview is a campaign with everything it did so far.
type CampaignReview struct {
	Campaign
	Content   []ContentReview
	Sends     []Send
	Scheduled decimal.Decimal // spend of all sends
	Results   Performance     // all reported results
	Batches   []string        // the result reports received, in order
}

// Left is what the campaign may still spend on sends.
func (r CampaignReview) Left() decimal.Decimal { return r.Budget.Sub(r.Scheduled) }

// ResultLine is one piece of content's results in a report.
type ResultLine struct {
	ContentID   string
	Sent        int64
	Opens       int64
	Clicks      int64
	Conversions int64
	Spend       decimal.Decimal
}

// CampaignResults is one report of results from the system that sends.
type CampaignResults struct {
	CampaignID string
	Batch      string // the report's own name, such as week-2: a report is kept once
	ReportedBy string
	Lines      []ResultLine
}

// SendOutcome is what a request to schedule a send did.
type SendOutcome struct {
	Scheduled bool   // this call wrote the send
	Already   bool   // a send under the key was scheduled before
	Refused   string // why nothing was scheduled, when neither
	Left      decimal.Decimal
	Currency  string
}

const campaignColumns = `id, name, product, goal_conversions, starts_on, ends_on, budget_minor, max_send_minor, currency`

func scanCampaign(scan func(...any) error) (Campaign, error) {
	var c Campaign
	var budget, maxSend int64
	if err := scan(&c.ID, &c.Name, &c.Product, &c.GoalConversions, &c.StartsOn, &c.EndsOn, &budget, &maxSend, &c.Currency); err != nil {
		return c, err
	}
	c.Budget, c.MaxSend = money.FromMinor(budget, c.Currency), money.FromMinor(maxSend, c.Currency)
	return c, nil
}

// Campaign reads one campaign; an unknown one is ErrNotFound.
func (s *Store) Campaign(ctx context.Context, id string) (Campaign, error) {
	return s.campaign(ctx, s.conn(), id)
}

func (s *Store) campaign(ctx context.Context, c conn, id string) (Campaign, error) {
	cp, err := scanCampaign(c.row(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE id = ?`, id).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return cp, fmt.Errorf("campaign %s: %w", id, ErrNotFound)
	} else if err != nil {
		return cp, fmt.Errorf("read campaign %s: %w", id, err)
	}
	return cp, nil
}

// PastCampaigns reviews up to limit campaigns that ended before day, the
// latest first.
func (s *Store) PastCampaigns(ctx context.Context, day string, limit int) ([]CampaignReview, error) {
	var ids []string
	err := s.conn().query(ctx, `SELECT id FROM campaigns WHERE ends_on < ? ORDER BY ends_on DESC, id LIMIT ?`, day, limit).each(func(r *sql.Rows) error {
		var id string
		ids = append(ids, id)
		return r.Scan(&ids[len(ids)-1])
	})
	if err != nil {
		return nil, fmt.Errorf("list campaigns that ended before %s: %w", day, err)
	}
	out := make([]CampaignReview, 0, len(ids))
	for _, id := range ids {
		r, err := s.ReviewCampaign(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Audiences lists every audience.
func (s *Store) Audiences(ctx context.Context) ([]Audience, error) {
	var out []Audience
	err := s.conn().query(ctx, `SELECT id, name, description, size FROM audiences ORDER BY id`).each(func(r *sql.Rows) error {
		var a Audience
		err := r.Scan(&a.ID, &a.Name, &a.Description, &a.Size)
		out = append(out, a)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list audiences: %w", err)
	}
	return out, nil
}

// ReviewCampaign reads a campaign with its content, sends and results; an
// unknown campaign is ErrNotFound.
func (s *Store) ReviewCampaign(ctx context.Context, id string) (CampaignReview, error) {
	c := s.conn()
	cp, err := s.campaign(ctx, c, id)
	if err != nil {
		return CampaignReview{}, err
	}
	r := CampaignReview{Campaign: cp}
	byID := map[string]int{}
	err = c.query(ctx, `SELECT id, publish_key, campaign_id, channel, variant, subject, body, approved_by, published_at
		FROM campaign_content WHERE campaign_id = ? ORDER BY published_at, id`, id).each(func(rows *sql.Rows) error {
		var ct ContentReview
		ct.Scheduled = decimal.Zero
		err := rows.Scan(&ct.ID, &ct.PublishKey, &ct.CampaignID, &ct.Channel, &ct.Variant, &ct.Subject, &ct.Body, &ct.ApprovedBy, &ct.PublishedAt)
		byID[ct.ID] = len(r.Content)
		r.Content = append(r.Content, ct)
		return err
	})
	if err != nil {
		return r, fmt.Errorf("read the content of campaign %s: %w", id, err)
	}
	r.Scheduled = decimal.Zero
	err = c.query(ctx, `SELECT send_key, campaign_id, content_id, audience_id, send_on, spend_minor FROM campaign_sends
		WHERE campaign_id = ? ORDER BY send_on, send_key`, id).each(func(rows *sql.Rows) error {
		var sd Send
		var spend int64
		if err := rows.Scan(&sd.Key, &sd.CampaignID, &sd.ContentID, &sd.AudienceID, &sd.SendOn, &spend); err != nil {
			return err
		}
		sd.Spend = money.FromMinor(spend, cp.Currency)
		r.Sends, r.Scheduled = append(r.Sends, sd), r.Scheduled.Add(sd.Spend)
		if i, ok := byID[sd.ContentID]; ok {
			r.Content[i].Sends++
			r.Content[i].Scheduled = r.Content[i].Scheduled.Add(sd.Spend)
		}
		return nil
	})
	if err != nil {
		return r, fmt.Errorf("read the sends of campaign %s: %w", id, err)
	}
	r.Results.Spend = decimal.Zero
	for i := range r.Content {
		r.Content[i].Results.Spend = decimal.Zero
	}
	err = c.query(ctx, `SELECT batch, content_id, sent, opens, clicks, conversions, spend_minor FROM campaign_results
		WHERE campaign_id = ? ORDER BY reported_at, batch, content_id`, id).each(func(rows *sql.Rows) error {
		var batch, content string
		var p Performance
		var spend int64
		if err := rows.Scan(&batch, &content, &p.Sent, &p.Opens, &p.Clicks, &p.Conversions, &spend); err != nil {
			return err
		}
		p.Spend = money.FromMinor(spend, cp.Currency)
		r.Results.add(p)
		if i, ok := byID[content]; ok {
			r.Content[i].Results.add(p)
		}
		if n := len(r.Batches); n == 0 || r.Batches[n-1] != batch {
			r.Batches = append(r.Batches, batch)
		}
		return nil
	})
	if err != nil {
		return r, fmt.Errorf("read the results of campaign %s: %w", id, err)
	}
	return r, nil
}

// PublishContent publishes a piece of content once per publish key, with
// its announcement to the outbox in the same transaction, and returns it
// (the earlier one when the key published before). An unknown campaign is
// ErrNotFound.
func (s *Store) PublishContent(ctx context.Context, ct Content, announce Notification) (Content, error) {
	err := s.inTx(ctx, func(c conn) error {
		if c.postgres {
			if _, err := c.exec(ctx, `SELECT id FROM campaigns WHERE id = ? FOR UPDATE`, ct.CampaignID); err != nil {
				return fmt.Errorf("hold campaign %s: %w", ct.CampaignID, err)
			}
		}
		if _, err := s.campaign(ctx, c, ct.CampaignID); err != nil {
			return err
		}
		err := c.row(ctx, `SELECT id, approved_by, published_at FROM campaign_content WHERE publish_key = ?`, ct.PublishKey).
			Scan(&ct.ID, &ct.ApprovedBy, &ct.PublishedAt)
		if err == nil {
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("look up content %s: %w", ct.PublishKey, err)
		}
		var n int
		if err := c.row(ctx, `SELECT count(*) FROM campaign_content WHERE campaign_id = ?`, ct.CampaignID).Scan(&n); err != nil {
			return fmt.Errorf("count the content of campaign %s: %w", ct.CampaignID, err)
		}
		ct.ID, ct.PublishedAt = fmt.Sprintf("%s-V%d", ct.CampaignID, n+1), s.stamp()
		if _, err := c.exec(ctx, `INSERT INTO campaign_content (id, publish_key, campaign_id, channel, variant, subject, body, approved_by, published_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, ct.ID, ct.PublishKey, ct.CampaignID, ct.Channel, ct.Variant, ct.Subject, ct.Body,
			ct.ApprovedBy, ct.PublishedAt); err != nil {
			return fmt.Errorf("publish content %s: %w", ct.ID, err)
		}
		announce.Subject = fmt.Sprintf("[%s] %s", ct.ID, announce.Subject)
		return s.notify(ctx, c, announce)
	})
	return ct, err
}

// ScheduleSend schedules a send once per key, in one transaction that holds
// the campaign: its sends never spend more than its budget, nor one send
// more than its per-send limit, however many runs schedule at once.
// Content of another campaign, an unknown audience, a day outside the
// campaign or an amount it cannot spend is refused with a sentence; an
// unknown campaign is ErrNotFound.
func (s *Store) ScheduleSend(ctx context.Context, sd Send) (SendOutcome, error) {
	var out SendOutcome
	err := s.inTx(ctx, func(c conn) error {
		if c.postgres {
			if _, err := c.exec(ctx, `SELECT id FROM campaigns WHERE id = ? FOR UPDATE`, sd.CampaignID); err != nil {
				return fmt.Errorf("hold campaign %s: %w", sd.CampaignID, err)
			}
		}
		cp, err := s.campaign(ctx, c, sd.CampaignID)
		if err != nil {
			return err
		}
		out.Currency = cp.Currency
		var spent int64
		if err := c.row(ctx, `SELECT coalesce(sum(spend_minor), 0) FROM campaign_sends WHERE campaign_id = ?`, sd.CampaignID).Scan(&spent); err != nil {
			return fmt.Errorf("add up the sends of campaign %s: %w", sd.CampaignID, err)
		}
		out.Left = cp.Budget.Sub(money.FromMinor(spent, cp.Currency))
		var n int
		if err := c.row(ctx, `SELECT count(*) FROM campaign_sends WHERE send_key = ?`, sd.Key).Scan(&n); err != nil {
			return fmt.Errorf("look up send %s: %w", sd.Key, err)
		} else if n > 0 {
			out.Already = true
			return nil
		}
		out.Refused, err = s.refuseSend(ctx, c, cp, sd, out.Left)
		if err != nil || out.Refused != "" {
			return err
		}
		minor, _ := money.ToMinor(sd.Spend, cp.Currency)
		if _, err := c.exec(ctx, `INSERT INTO campaign_sends (send_key, campaign_id, content_id, audience_id, send_on, spend_minor, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, sd.Key, sd.CampaignID, sd.ContentID, sd.AudienceID, sd.SendOn, minor, s.stamp()); err != nil {
			return fmt.Errorf("schedule send %s: %w", sd.Key, err)
		}
		out.Scheduled, out.Left = true, out.Left.Sub(sd.Spend)
		return nil
	})
	return out, err
}

// refuseSend says why a send cannot be scheduled, or "" when it can.
func (s *Store) refuseSend(ctx context.Context, c conn, cp Campaign, sd Send, left decimal.Decimal) (string, error) {
	var owner string
	err := c.row(ctx, `SELECT campaign_id FROM campaign_content WHERE id = ?`, sd.ContentID).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != cp.ID) {
		return fmt.Sprintf("campaign %s has no published content %q; publish it first", cp.ID, sd.ContentID), nil
	} else if err != nil {
		return "", fmt.Errorf("look up content %s: %w", sd.ContentID, err)
	}
	var n int
	if err := c.row(ctx, `SELECT count(*) FROM audiences WHERE id = ?`, sd.AudienceID).Scan(&n); err != nil {
		return "", fmt.Errorf("look up audience %s: %w", sd.AudienceID, err)
	} else if n == 0 {
		return fmt.Sprintf("there is no audience %q", sd.AudienceID), nil
	}
	if _, err := time.Parse(time.DateOnly, sd.SendOn); err != nil || sd.SendOn < cp.StartsOn || sd.SendOn > cp.EndsOn {
		return fmt.Sprintf("send on a day from %s to %s (YYYY-MM-DD), not %q", cp.StartsOn, cp.EndsOn, sd.SendOn), nil
	}
	if _, err := money.ToMinor(sd.Spend, cp.Currency); err != nil {
		return err.Error(), nil
	}
	switch {
	case sd.Spend.IsNegative():
		return "a send cannot spend a negative amount", nil
	case sd.Spend.GreaterThan(cp.MaxSend):
		return fmt.Sprintf("one send may spend at most %s", money.Format(cp.MaxSend, cp.Currency)), nil
	case sd.Spend.GreaterThan(left):
		return fmt.Sprintf("campaign %s has %s of its budget left", cp.ID, money.Format(left, cp.Currency)), nil
	}
	return "", nil
}

// RecordCampaignResults keeps a report of results once per campaign and
// batch, in one transaction, and says whether this call recorded it. An
// unknown campaign is ErrNotFound; content of another campaign is refused.
func (s *Store) RecordCampaignResults(ctx context.Context, res CampaignResults) (bool, error) {
	var recorded bool
	err := s.inTx(ctx, func(c conn) error {
		cp, err := s.campaign(ctx, c, res.CampaignID)
		if err != nil {
			return err
		}
		var n int
		if err := c.row(ctx, `SELECT count(*) FROM campaign_results WHERE campaign_id = ? AND batch = ?`, res.CampaignID, res.Batch).Scan(&n); err != nil {
			return fmt.Errorf("look up results %s of campaign %s: %w", res.Batch, res.CampaignID, err)
		} else if n > 0 {
			return nil
		}
		at := s.stamp()
		for _, l := range res.Lines {
			var owner string
			err := c.row(ctx, `SELECT campaign_id FROM campaign_content WHERE id = ?`, l.ContentID).Scan(&owner)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != cp.ID) {
				return fmt.Errorf("results %s name content %q, which campaign %s did not publish: %w", res.Batch, l.ContentID, cp.ID, ErrNotFound)
			} else if err != nil {
				return fmt.Errorf("look up content %s: %w", l.ContentID, err)
			}
			spend, err := money.ToMinor(l.Spend, cp.Currency)
			if err != nil {
				return fmt.Errorf("results %s for %s: %w", res.Batch, l.ContentID, err)
			}
			if _, err := c.exec(ctx, `INSERT INTO campaign_results (campaign_id, batch, content_id, sent, opens, clicks, conversions, spend_minor,
				reported_by, reported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, cp.ID, res.Batch, l.ContentID, l.Sent, l.Opens, l.Clicks,
				l.Conversions, spend, res.ReportedBy, at); err != nil {
				return fmt.Errorf("record results %s for %s: %w", res.Batch, l.ContentID, err)
			}
		}
		recorded = true
		return nil
	})
	return recorded, err
}
