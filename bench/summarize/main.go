// Command summarize prints a hyperfine JSON export as a markdown table of
// medians, with each command's ratio to the first one.
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

type export struct {
	Results []struct {
		Command string  `json:"command"`
		Median  float64 `json:"median"`
		Min     float64 `json:"min"`
		Max     float64 `json:"max"`
	} `json:"results"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: summarize HYPERFINE.json")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "summarize:", err)
		os.Exit(1)
	}
	var e export
	if err := json.Unmarshal(data, &e); err != nil || len(e.Results) == 0 {
		fmt.Fprintln(os.Stderr, "summarize: not a hyperfine export:", os.Args[1])
		os.Exit(1)
	}
	base := e.Results[0].Median
	fmt.Println("| command | median | min | max | ratio to first |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, r := range e.Results {
		fmt.Printf("| %s | %.1f ms | %.1f ms | %.1f ms | %.2f |\n", r.Command, r.Median*1e3, r.Min*1e3, r.Max*1e3, r.Median/base)
	}
}
