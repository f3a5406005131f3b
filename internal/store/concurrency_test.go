package store_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"

	"github.com/tandemhq/tandem/internal/store"
	"github.com/tandemhq/tandem/internal/store/storetest"
	"github.com/tandemhq/tandem/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopPostgres()
	os.Exit(code)
}

// TestWritesStayExactlyOnceUnderConcurrentWorkers writes as several workers
// on several hosts would, each with its own connection pool, at the same
// moment: refunds of one order never add up to more than it cost, a
// repeated refund key refunds once, two values of one kind get distinct
// placeholders and one value one placeholder, and an invoice number posts
// once whatever key it comes with. Under TANDEM_TEST_STORE=postgres it runs
// on PostgreSQL.
func TestWritesStayExactlyOnceUnderConcurrentWorkers(t *testing.T) {
	ctx := context.Background()
	seeded := storetest.Seeded(t)
	setting := storetest.SettingOf(t, seeded)
	const hosts = 6
	workers := make([]*store.Store, hosts)
	for i := range workers {
		workers[i] = storetest.Open(t, setting)
	}

	// O-20931 costs 59.00 EUR: twelve refunds of 10.00, two per key.
	var wg sync.WaitGroup
	issued := make([]store.RefundOutcome, 12)
	for i := range issued {
		wg.Go(func() {
			r, err := workers[i%hosts].IssueRefund(ctx, store.Refund{IdempotencyKey: fmt.Sprintf("run/%d", i/2), OrderID: "O-20931",
				Amount: decimal.RequireFromString("10.00"), Reason: "late", ApprovedBy: "support.lead"})
			assert.NoError(t, err)
			issued[i] = r
		})
	}
	wg.Wait()
	written := 0
	for _, r := range issued {
		if r.Issued {
			written++
		}
	}
	assert.Equal(t, 5, written, "five refunds of 10.00 fit in 59.00; the sixth key is refused")
	assert.Equal(t, 5000, storetest.Int(t, setting, `SELECT sum(amount_minor) FROM refunds WHERE order_id = 'O-20931'`))
	assert.Equal(t, 5, storetest.Int(t, setting, `SELECT count(*) FROM refunds WHERE order_id = 'O-20931'`))

	// Placeholders: ten values of one kind, each asked for by three hosts.
	placeholders := make([][]string, 10)
	for v := range placeholders {
		placeholders[v] = make([]string, 3)
		for h := range 3 {
			wg.Go(func() {
				ph, err := workers[(v+h)%hosts].Placeholder(ctx, "run-1", "EMAIL", fmt.Sprintf("user%d@example.com", v))
				assert.NoError(t, err)
				placeholders[v][h] = ph
			})
		}
	}
	wg.Wait()
	seen := map[string]bool{}
	for v, phs := range placeholders {
		assert.Equal(t, phs[0], phs[1], "value %d has one placeholder", v)
		assert.Equal(t, phs[0], phs[2], "value %d has one placeholder", v)
		assert.False(t, seen[phs[0]], "placeholder %s is one value's", phs[0])
		seen[phs[0]] = true
	}
	assert.Len(t, seen, 10)

	// One invoice number, posted at once under four keys.
	outcomes := make([]error, 4)
	for i := range outcomes {
		wg.Go(func() {
			_, outcomes[i] = workers[i].PostInvoice(ctx, store.LedgerPosting{IdempotencyKey: fmt.Sprintf("inv-%d", i), Kind: "invoice",
				VendorID: "V-ACME", InvoiceNumber: "ACM-900", Amount: decimal.RequireFromString("119.00"), Currency: "EUR",
				ContentHash: fmt.Sprintf("hash-%d", i), ApprovedBy: "ap.lead", WorkflowID: fmt.Sprintf("w-%d", i)})
		})
	}
	wg.Wait()
	posted := 0
	for _, err := range outcomes {
		if err == nil {
			posted++
		} else {
			assert.ErrorIs(t, err, store.ErrDuplicate)
		}
	}
	assert.Equal(t, 1, posted)
	assert.Equal(t, 1, storetest.Int(t, setting, `SELECT count(*) FROM ledger WHERE invoice_number = 'ACM-900'`))
}
