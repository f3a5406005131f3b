package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/internal/policy"
	"github.com/tandemhq/tandem/internal/store/storetest"
)

func testTools(t *testing.T) *Tools {
	return &Tools{Store: seededStore(t), CorpusDir: "../testdata/corpus"}
}

func call(name, args string) ToolCall {
	return ToolCall{RunKey: "agent-1", Step: 3, Name: name, Args: json.RawMessage(args)}
}

func TestSearchDocsRanksWithBM25(t *testing.T) {
	t.Parallel()
	res, err := testTools(t).ReadTool(context.Background(), call("search_docs", `{"query":"refund of a duplicate charge under the expense policy","limit":2}`))
	require.NoError(t, err)
	lines := strings.Split(res.Observation, "\n")
	require.Len(t, lines, 2)
	assert.True(t, strings.HasPrefix(lines[0], "refund-policy.md"), res.Observation)
	assert.Empty(t, res.Read, "a search lists titles; it reads nothing")

	res, err = testTools(t).ReadTool(context.Background(), call("search_docs", `{"query":"zeppelin","limit":2}`))
	require.NoError(t, err)
	assert.Equal(t, `no document matches "zeppelin"`, res.Observation)
}

func TestReadDoc(t *testing.T) {
	t.Parallel()
	tools := testTools(t)
	res, err := tools.ReadTool(context.Background(), call("read_doc", `{"name":"shipping"}`))
	require.NoError(t, err)
	assert.Contains(t, res.Observation, "carrier investigation")
	assert.Equal(t, []string{"shipping.md"}, res.Read)

	res, err = tools.ReadTool(context.Background(), call("read_doc", `{"name":"../../etc/passwd"}`))
	require.NoError(t, err)
	assert.Equal(t, `there is no document "../../etc/passwd"; search_docs lists what there is`, res.Observation, "no path escapes the corpus")
}

func TestLongOutputsTravelByReference(t *testing.T) {
	t.Parallel()
	tools := testTools(t)
	long := strings.Repeat("lorem ipsum ", 400)
	res, err := tools.bounded(context.Background(), "agent-1/3", long, nil)
	require.NoError(t, err)
	assert.Equal(t, "agent-1/3", res.Ref)
	assert.Less(t, len(res.Observation), MaxObservation+100)
	stored := storetest.String(t, tools.Store.Records, `SELECT content FROM artifacts WHERE ref = 'agent-1/3'`)
	assert.Equal(t, long, stored)
}

func TestLookups(t *testing.T) {
	t.Parallel()
	tools := testTools(t)
	ctx := context.Background()
	res, err := tools.ReadTool(ctx, call("lookup_customer", `{"query":"camille.martin@example.com"}`))
	require.NoError(t, err)
	assert.Equal(t, "customer C-100: Camille Martin <camille.martin@example.com>, standard tier, customer since 2023-04-11", res.Observation)

	res, err = tools.ReadTool(ctx, call("lookup_order", `{"orderId":"O-20931"}`))
	require.NoError(t, err)
	assert.Contains(t, res.Observation, `Desk lamp "Aurora", 59.00 EUR`)
	assert.Contains(t, res.Observation, "refunded so far 0.00")

	res, err = tools.ReadTool(ctx, call("order_history", `{"customerId":"C-100"}`))
	require.NoError(t, err)
	assert.Len(t, strings.Split(res.Observation, "\n"), 2)

	res, err = tools.ReadTool(ctx, call("calculate", `{"expression":"59 * (1 - 0.2) / 2"}`))
	require.NoError(t, err)
	assert.Equal(t, "59 * (1 - 0.2) / 2 = 23.6", res.Observation)
}

func TestIssueRefundOncePerStepAndWithinTheOrder(t *testing.T) {
	t.Parallel()
	tools := testTools(t)
	ctx := context.Background()
	c := call("issue_refund", `{"orderId":"O-20931","amount":59,"reason":"lost parcel"}`)
	c.ApprovedBy = "support.lead"
	res, err := tools.WriteTool(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, "refunded 59.00 EUR on order O-20931 (refund agent-1/3)", res.Observation)
	res, err = tools.WriteTool(ctx, c)
	require.NoError(t, err, "a retried step succeeds")
	assert.Equal(t, "refund agent-1/3 of 59.00 EUR on order O-20931 was already issued", res.Observation)
	assert.Equal(t, 1, storetest.Int(t, tools.Store.Records, `SELECT count(*) FROM refunds WHERE approved_by = 'support.lead'`))

	c.Step = 4
	res, err = tools.WriteTool(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, "refund of 59.00 EUR refused: order O-20931 has 0.00 EUR left to refund", res.Observation)

	c = call("issue_refund", `{"orderId":"O-20412","amount":1.005,"reason":"scratch"}`)
	c.Step = 5
	res, err = tools.WriteTool(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, "refund of 1.005 refused: 1.005 has more than the 2 minor digits of EUR", res.Observation)
	assert.Equal(t, 5900, storetest.Int(t, tools.Store.Records, `SELECT sum(amount_minor) FROM refunds`), "exact cents, once")
}

func TestSendMessageGoesToTheEmailOnFile(t *testing.T) {
	t.Parallel()
	tools := testTools(t)
	res, err := tools.WriteTool(context.Background(), call("send_message", `{"customerId":"C-100","subject":"Your lamp","body":"It is on its way."}`))
	require.NoError(t, err)
	assert.Contains(t, res.Observation, "camille.martin@example.com")
	to := storetest.String(t, tools.Store.Records, `SELECT recipients FROM outbox WHERE idempotency_key = 'agent-1/3'`)
	assert.Equal(t, "camille.martin@example.com", to)
}

func TestCalculate(t *testing.T) {
	t.Parallel()
	for expr, want := range map[string]float64{"1+2*3": 7, "(1+2)*3": 9, "-4/2": -2, " 10 - 2 - 3 ": 5, "1.5*2": 3} {
		got, err := Calculate(expr)
		require.NoError(t, err, expr)
		assert.Equal(t, want, got, expr)
	}
	for expr, want := range map[string]string{"": "the expression is empty", "1/0": "division by zero", "(1+2": "a parenthesis is not closed",
		"2^3": `unexpected "^3" at position 2`, "rm -rf": `unexpected "r" at position 1`} {
		_, err := Calculate(expr)
		assert.EqualError(t, err, want, expr)
	}
}

func TestRememberedFactsAreRedactedAndRecalledNewestFirst(t *testing.T) {
	t.Parallel()
	tools := testTools(t)
	p, err := policy.Parse("p", []byte("version: 1\nredaction:\n  detectors: [email, phone]\n"), nil)
	require.NoError(t, err)
	tools.Redactor, err = p.Redactor()
	require.NoError(t, err)
	ctx := context.Background()
	remember := func(step int, fact string) ToolResult {
		res, err := tools.WriteTool(ctx, ToolCall{RunKey: "agent-7", Step: step, Name: "remember",
			Args: json.RawMessage(fmt.Sprintf(`{"subject":"C-100","fact":%q}`, fact))})
		require.NoError(t, err)
		return res
	}
	assert.Equal(t, "remembered about C-100: prefers email, at [EMAIL]", remember(1, "prefers email, at dana.wells@example.com").Observation)
	remember(2, "asked for a call back on +44 20 7946 0018")
	remember(2, "a retried step remembers nothing twice")

	res, err := tools.ReadTool(ctx, ToolCall{RunKey: "agent-8", Step: 1, Name: "recall", Args: json.RawMessage(`{"subject":"c-100"}`)})
	require.NoError(t, err)
	lines := strings.Split(res.Observation, "\n")
	require.Len(t, lines, 3, res.Observation)
	assert.Equal(t, "remembered about c-100, newest first:", lines[0])
	assert.True(t, strings.HasSuffix(lines[1], "(run agent-7): asked for a call back on [PHONE]"), lines[1])
	assert.True(t, strings.HasSuffix(lines[2], "(run agent-7): prefers email, at [EMAIL]"), lines[2])
	assert.Zero(t, storetest.Int(t, tools.Store.Records, `SELECT count(*) FROM agent_memory WHERE fact LIKE '%dana.wells%' OR fact LIKE '%7946%'`), "the store holds no personal data")

	n, err := tools.Store.Records.PurgeMemory(ctx, time.Hour, time.Now().Add(2*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, int64(2), n, "facts past the retention are deleted")
	res, err = tools.ReadTool(ctx, ToolCall{RunKey: "agent-8", Step: 2, Name: "recall", Args: json.RawMessage(`{"subject":"C-100"}`)})
	require.NoError(t, err)
	assert.Equal(t, "nothing is remembered about C-100", res.Observation)
}
