package activities

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCampaignResultsAreCheckedBeforeAnyRunSeesThem(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile("../testdata/campaigns/week-1.json")
	require.NoError(t, err)
	r, err := ParseCampaignResults(string(example))
	require.NoError(t, err, "the documented example is a report of results")
	assert.Equal(t, "CMP-SPRING", r.Campaign)
	assert.Equal(t, "600", r.Results[0].Spend.String())

	for data, sentence := range map[string]string{
		`{"campaign":"CMP-SPRING","batch":"week-1","results":[]}`:             "campaign results list no content's results",
		`{"campaign":"","batch":"week-1","results":[{"content":"X"}]}`:        "campaign results must name their campaign",
		`{"campaign":"C","batch":"week one","results":[{"content":"X"}]}`:     "campaign results need a batch: one word of at most 40 characters naming the report, such as week-2",
		`{"campaign":"C","batch":"w1","results":[{"content":"X","sent":-1}]}`: "the results of X have a negative number",
		`{"campaign":"C","batch":"w1","results":[{"content":""}]}`:            "each result names the content it is for",
	} {
		_, err := ParseCampaignResults(data)
		require.Error(t, err, data)
		assert.Equal(t, sentence, err.Error())
	}
	_, err = ParseCampaignResults(`{"campaign":"C","batch":"w1","results":[{"content":"X","revenue":3}]}`)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown field "revenue"`)
}
