package campaign_test

import (
	"fmt"

	"github.com/fortune-go/fortune/fortune/campaign"
	"github.com/fortune-go/fortune/fortune/inject"
	"github.com/fortune-go/fortune/fortune/storage"
)

// A campaign is described by its Settings; Validate names the flag of a setting no campaign
// can run, and a results file resumes only under the settings in its header (Diff says what
// differs).
func ExampleSettings() {
	s := campaign.Settings{Model: "lenet5", Weights: "runs/weights/lenet5.safetensors",
		Variants: campaign.PaperVariants, BERs: []float64{1e-3, 1e-2}, Trials: 10, Seed: 1,
		Placement: inject.Distinct, Eval: "test, first 2000 images", BatchSize: 500}
	fmt.Println(s.Validate())

	bad := s
	bad.Variants = []string{"8-bit", "P-9"}
	fmt.Println(bad.Validate() != nil)

	more := s
	more.Trials = 20
	fmt.Println(s.Diff(more))
	// Output:
	// <nil>
	// true
	// trials: stored 10, now 20
}

// Every trial's faults come from a seed derived from the campaign seed and the trial's
// coordinates, with the variant by its canonical name: "p-4" and "P-4" draw the same faults.
func ExampleTrialSeed() {
	a, _ := storage.Parse("P-4")
	b, _ := storage.Parse("p-4")
	fmt.Println(campaign.TrialSeed(1, "lenet5", a, 1e-2, 0) == campaign.TrialSeed(1, "lenet5", b, 1e-2, 0))
	fmt.Println(campaign.TrialSeed(1, "lenet5", a, 1e-2, 0) == campaign.TrialSeed(1, "lenet5", a, 1e-2, 1))
	// Output:
	// true
	// false
}

// The authors' protocol is a bundle of switches; Diff lists them against the corrected default
// (AlexNet's dropout only for AlexNet).
func ExampleSettings_WithLegacyProtocol() {
	s := campaign.Settings{Model: "alexnet", Variants: []string{"8-bit", "P-4"}, BERs: []float64{3e-4},
		Trials: 10, BatchSize: 20}
	fmt.Println(s.Diff(s.WithLegacyProtocol()))
	vgg := s
	vgg.Model = "vgg11"
	fmt.Println(vgg.WithLegacyProtocol().LegacyDropout)
	// Output:
	// placement: stored distinct, now legacy; sign_negate: stored false, now true; legacy_layers: stored false, now true; legacy_clamp: stored false, now true; legacy_dropout: stored false, now true
	// false
}
