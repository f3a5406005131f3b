package main

import (
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/tandemhq/tandem/api"
)

// mcpCmd serves Tandem as an MCP server over stdio, for an agent on the
// same machine (a desktop assistant, an IDE agent) to start, follow and
// decide runs as the person running it.
func mcpCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mcp",
		Short: "Serve Tandem's runs as MCP tools over stdio, deciding as --as",
		Long: "Serve Tandem as an MCP server over stdio: tools start each kind of run with an idempotency key, read a run's status " +
			"and result, list pending decisions and decide them as the person --as names; a run accepts a decision only from its approvers.",
		Example: "  starter mcp --as support.lead\n  npx @modelcontextprotocol/inspector --cli starter mcp --as support.lead --method tools/list",
		Args:    cobra.NoArgs,
	}
	as := cmd.Flags().String("as", os.Getenv("USER"), "the person the tools act for when they decide (TANDEM_MCP_AS)")
	if v := os.Getenv("TANDEM_MCP_AS"); v != "" {
		*as = v
	}
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx, cfg := cmd.Context(), a.cfg
		c, err := dial(ctx, cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		srv := &api.Server{Client: api.NewClient(c, cfg.TaskQueue), Namespace: cfg.Namespace, UIURL: cfg.UIURL}
		return srv.MCPServer(*as).Run(ctx, &mcp.StdioTransport{})
	}
	return cmd
}
