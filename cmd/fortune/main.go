// Command fortune reproduces and extends the FORTUNE paper: it trains the networks, runs
// fault-injection campaigns over storage variants (8-bit, unprotected w-bit, P-w, and the classic
// codes PAR-w, SEC-w, SECDED-w, TMR-2) and bit error rates, searches the bit width (Algorithm 1,
// corrected), and writes the paper's tables and figures.
//
// Usage:
//
//	fortune reproduce [--profile quick|paper] [--models …] [--out DIR]
//	fortune train     --model NAME [--epochs N] [--out FILE]
//	fortune campaign  --model NAME --weights FILE [--variants …] [--bers …] [--trials N] [--out DIR]
//	fortune search    --model NAME --weights FILE [--a ACC] [--b DROP] [--m 3 --n 8]
//	fortune report    [--out DIR] RESULTS.jsonl …
//	fortune bench     [--models …]
//	fortune selftest  [--checks …] [--full]
//
// Every command takes --backend (go, xla:cpu, xla:cuda or a PJRT plugin path; default: XLA if
// a plugin is installed, else the pure-Go backend) and says which backend it used.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
)

var commands = map[string]struct {
	run  func(args []string) error
	help string
}{
	"reproduce": {runReproduce, "train (if needed), run the campaigns and write Tables I-II and Figures 5-7"},
	"train":     {runTrain, "train a network from scratch and save its weights"},
	"campaign":  {runCampaign, "run (or resume) a fault-injection campaign for one network"},
	"search":    {runSearch, "choose a bit width with the corrected Algorithm 1"},
	"report":    {runReport, "write tables, figures and the comparison with the paper from results files"},
	"bench":     {runBench, "measure inference and fault-trial speed on the chosen backend"},
	"selftest":  {runSelftest, "check the chosen backend against the plain-Go reference and the pure-Go backend"},
	"version":   {func([]string) error { fmt.Println("fortune", version); return nil }, "print the version"},
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: fortune COMMAND [flags]\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].help)
	}
	fmt.Fprintf(os.Stderr, "\nRun 'fortune COMMAND -h' for a command's flags.\n")
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		os.Exit(2)
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "fortune: unknown command %q\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err := cmd.run(os.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "fortune %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
