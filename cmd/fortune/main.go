package main

import (
	"fmt"
	"github.com/fortune-go/fortune/fortune/backend"
)

func main() {
	_, info, err := backend.New("")
	fmt.Println(info, err)
}
