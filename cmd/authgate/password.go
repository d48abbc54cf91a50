package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/authgate/authgate/issue"
)

// readPassword reads the password for username. From a terminal it prompts on
// w and reads without echo, twice to confirm; from anything else (a pipe, a
// file) it reads the first line, so scripts work as before.
func readPassword(ctx context.Context, stdin io.Reader, w io.Writer, username string) (string, error) {
	if stdin == nil {
		return "", errors.New("the password must come on standard input")
	}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return promptPassword(w, username, func() (string, error) { return readNoEcho(ctx, int(f.Fd())) })
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, issue.MaxPasswordLen*4+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return "", errors.New("no password given on standard input (send it as the first line, e.g. from a password manager)")
	}
	return password, nil
}

// promptPassword asks for the password of username on w and reads it with
// read, then asks again to confirm.
func promptPassword(w io.Writer, username string, read func() (string, error)) (string, error) {
	fmt.Fprintf(w, "Password for %s: ", username)
	first, err := read()
	fmt.Fprintln(w) // the Enter the terminal did not echo
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	if first == "" {
		return "", errors.New("no password given")
	}
	fmt.Fprintf(w, "Again, to confirm: ")
	second, err := read()
	fmt.Fprintln(w)
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	if second != first {
		return "", errors.New("the two passwords differ; nothing was changed")
	}
	return first, nil
}

// readNoEcho reads one line from the terminal fd without echo. Interrupted
// (Ctrl-C cancels ctx), it puts the terminal back as it was, echo included.
func readNoEcho(ctx context.Context, fd int) (string, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return "", err
	}
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		return string(r.b), r.err
	case <-ctx.Done():
		term.Restore(fd, state)
		return "", errors.New("interrupted")
	}
}
