package results

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/opconform/opconform/report"
)

// bigRun is a report of n cells: clients 3.200.0… against operators 3.100.0…, 25 operators a
// client, every requirement's outcome, one negative control caught.
func bigRun(n int, at time.Time) run {
	r := run{at: at, control: true, caught: true, pairs: map[[2]string]string{}}
	for i := range n - 1 {
		r.pairs[[2]string{fmt.Sprintf("3.%d.0", 200+i/25), fmt.Sprintf("3.%d.0", 100+i%25)}] = ""
	}
	return r
}

// BenchmarkRecord10000Cells records one report of 10,000 cells (about 170,000 outcomes).
func BenchmarkRecord10000Cells(b *testing.B) {
	for name, dsn := range backends(b) {
		b.Run(name, func(b *testing.B) {
			s := open(b, dsn(b))
			base := time.Now()
			reps := make([]*report.Report, b.N)
			for i := range reps {
				reps[i] = bigRun(10000, base.Add(time.Duration(i)*time.Second)).report()
			}
			b.ResetTimer()
			for i := range b.N {
				if _, _, err := s.Record(context.Background(), reps[i], "", ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCanIDeploy100Runs asks can-i-deploy of a client against ten operators, over 100
// recorded runs of 1,000 cells each.
func BenchmarkCanIDeploy100Runs(b *testing.B) {
	for name, dsn := range backends(b) {
		b.Run(name, func(b *testing.B) {
			s := open(b, dsn(b))
			for i := range 100 {
				if _, _, err := s.Record(context.Background(), bigRun(1000, time.Now().Add(time.Duration(i)*time.Minute)).report(), "", ""); err != nil {
					b.Fatal(err)
				}
			}
			var operators []string
			for i := range 10 {
				operators = append(operators, fmt.Sprintf("3.%d.0", 100+i))
			}
			q := Query{Client: "3.220.0", Counterparts: operators}
			b.ResetTimer()
			for range b.N {
				a, err := s.CanIDeploy(context.Background(), q, nil)
				if err != nil || !a.Safe || len(a.Pairs) != 10 {
					b.Fatalf("%v %+v", err, a)
				}
			}
		})
	}
}
