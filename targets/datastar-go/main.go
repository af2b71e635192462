// Command datastar-go is vt's Go-SDK target: net/http + github.com/starfederation/datastar-go.
//
// It serves the SDK test endpoint /test (the events array of the request's signals, each sent
// with the SDK) and the small plain-Datastar chat described in targets/README.md, on 127.0.0.1.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/starfederation/datastar-go/datastar"
)

// testEvent is one entry of the /test endpoint's `events` array (see targets/README.md).
type testEvent struct {
	Type string `json:"type"`

	Elements          string `json:"elements"`
	Selector          string `json:"selector"`
	Mode              string `json:"mode"`
	Namespace         string `json:"namespace"`
	UseViewTransition *bool  `json:"useViewTransition"`

	Signals       json.RawMessage `json:"signals"`
	SignalsRaw    string          `json:"signals-raw"`
	Keys          []string        `json:"keys"`
	OnlyIfMissing *bool           `json:"onlyIfMissing"`

	Script     string            `json:"script"`
	AutoRemove *bool             `json:"autoRemove"`
	Attributes orderedAttributes `json:"attributes"`

	EventID       string `json:"eventId"`
	RetryDuration int    `json:"retryDuration"`
}

// orderedAttributes keeps a JSON object's keys and values in document order, as the
// alternating key, value list that the SDK's WithExecuteScriptAttributeKVs takes.
type orderedAttributes []string

func (a *orderedAttributes) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if _, err := dec.Token(); err != nil { // the opening brace
		return err
	}
	for dec.More() {
		keyToken, err := dec.Token()
		if err != nil {
			return err
		}
		var value any
		if err := dec.Decode(&value); err != nil {
			return err
		}
		*a = append(*a, fmt.Sprint(keyToken), fmt.Sprint(value))
	}
	return nil
}

type testRequest struct {
	Events []testEvent `json:"events"`
}

func handleTest(w http.ResponseWriter, r *http.Request) {
	var req testRequest
	if err := datastar.ReadSignals(r, &req); err != nil {
		http.Error(w, "cannot read signals: "+err.Error(), http.StatusBadRequest)
		return
	}
	sse := datastar.NewSSE(w, r)
	for _, ev := range req.Events {
		if err := sendTestEvent(sse, ev); err != nil {
			log.Printf("/test: %s: %v", ev.Type, err)
		}
	}
}

func retry(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }

func sendTestEvent(sse *datastar.ServerSentEventGenerator, ev testEvent) error {
	switch ev.Type {
	case "patchElements", "removeElements":
		opts := []datastar.PatchElementOption{}
		if ev.Selector != "" {
			opts = append(opts, datastar.WithSelector(ev.Selector))
		}
		if ev.Type == "removeElements" {
			opts = append(opts, datastar.WithModeRemove())
		} else if ev.Mode != "" {
			mode, err := datastar.ElementPatchModeFromString(ev.Mode)
			if err != nil {
				return err
			}
			opts = append(opts, datastar.WithMode(mode))
		}
		if ev.Namespace != "" {
			ns, err := datastar.NamespaceFromString(ev.Namespace)
			if err != nil {
				return err
			}
			opts = append(opts, datastar.WithNamespace(ns))
		}
		if ev.UseViewTransition != nil {
			opts = append(opts, datastar.WithUseViewTransitions(*ev.UseViewTransition))
		}
		if ev.EventID != "" {
			opts = append(opts, datastar.WithPatchElementsEventID(ev.EventID))
		}
		if ev.RetryDuration > 0 {
			opts = append(opts, datastar.WithRetryDuration(retry(ev.RetryDuration)))
		}
		return sse.PatchElements(ev.Elements, opts...)
	case "patchSignals", "removeSignals":
		opts := []datastar.PatchSignalsOption{}
		if ev.OnlyIfMissing != nil {
			opts = append(opts, datastar.WithOnlyIfMissing(*ev.OnlyIfMissing))
		}
		if ev.EventID != "" {
			opts = append(opts, datastar.WithPatchSignalsEventID(ev.EventID))
		}
		if ev.RetryDuration > 0 {
			opts = append(opts, datastar.WithPatchSignalsRetryDuration(retry(ev.RetryDuration)))
		}
		var payload []byte
		switch {
		case ev.Type == "removeSignals":
			// The SDK has no removal call: removal is a merge patch with null values.
			removal := map[string]any{}
			for _, key := range ev.Keys {
				removal[key] = nil
			}
			b, err := json.Marshal(removal)
			if err != nil {
				return err
			}
			payload = b
		case ev.SignalsRaw != "":
			payload = []byte(ev.SignalsRaw)
		default:
			var value any
			if err := json.Unmarshal(ev.Signals, &value); err != nil {
				return err
			}
			b, err := json.Marshal(value)
			if err != nil {
				return err
			}
			payload = b
		}
		return sse.PatchSignals(payload, opts...)
	case "executeScript":
		opts := []datastar.ExecuteScriptOption{}
		if ev.AutoRemove != nil {
			opts = append(opts, datastar.WithExecuteScriptAutoRemove(*ev.AutoRemove))
		}
		if len(ev.Attributes) > 0 {
			opts = append(opts, datastar.WithExecuteScriptAttributeKVs(ev.Attributes...))
		}
		if ev.EventID != "" {
			opts = append(opts, datastar.WithExecuteScriptEventID(ev.EventID))
		}
		if ev.RetryDuration > 0 {
			opts = append(opts, datastar.WithExecuteScriptRetryDuration(retry(ev.RetryDuration)))
		}
		return sse.ExecuteScript(ev.Script, opts...)
	}
	return fmt.Errorf("unknown event type %q", ev.Type)
}

// room is the chat's one shared message list and the set of open streams.
type room struct {
	mu       sync.Mutex
	messages []message
	streams  map[chan string]struct{}
}

type message struct{ Name, Text string }

var escaper = strings.NewReplacer(`&`, "&amp;", `<`, "&lt;", `>`, "&gt;", `"`, "&quot;", `'`, "&#39;")

// renderMessages is the #messages list; the markup is the same in all three targets.
func renderMessages(messages []message) string {
	var b strings.Builder
	b.WriteString(`<ul id="messages">`)
	for _, m := range messages {
		b.WriteString(`<li class="message"><b class="author">`)
		b.WriteString(escaper.Replace(m.Name))
		b.WriteString(`</b>: <span class="text">`)
		b.WriteString(escaper.Replace(m.Text))
		b.WriteString(`</span></li>`)
	}
	b.WriteString(`</ul>`)
	return b.String()
}

const pageHead = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>vt chat</title>
<script type="module" src="/datastar.js"></script>
</head>
<body>
<main id="chat" data-signals='{"name": "", "draft": ""}' data-init="@get('/stream')">
<h1>Chat</h1>
`

const pageTail = `
<form id="composer" data-on:submit__prevent="@post('/send')">
<input id="name" data-bind="name" placeholder="Your name">
<input id="draft" data-bind="draft" placeholder="Message">
<button id="send" type="submit">Send</button>
</form>
</main>
</body>
</html>
`

func (rm *room) page(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	rm.mu.Lock()
	list := renderMessages(rm.messages)
	rm.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, pageHead+list+pageTail)
}

func (rm *room) stream(w http.ResponseWriter, r *http.Request) {
	sse := datastar.NewSSE(w, r)
	updates := make(chan string, 64)
	rm.mu.Lock()
	rm.streams[updates] = struct{}{}
	current := renderMessages(rm.messages)
	rm.mu.Unlock()
	defer func() {
		rm.mu.Lock()
		delete(rm.streams, updates)
		rm.mu.Unlock()
	}()
	if err := sse.PatchElements(current); err != nil {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case list := <-updates:
			if err := sse.PatchElements(list); err != nil {
				return
			}
		}
	}
}

func (rm *room) send(w http.ResponseWriter, r *http.Request) {
	var signals struct {
		Name  string `json:"name"`
		Draft string `json:"draft"`
	}
	if err := datastar.ReadSignals(r, &signals); err != nil {
		http.Error(w, "cannot read signals: "+err.Error(), http.StatusBadRequest)
		return
	}
	text := strings.TrimSpace(signals.Draft)
	if text == "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	name := strings.TrimSpace(signals.Name)
	if name == "" {
		name = "anonymous"
	}
	rm.mu.Lock()
	rm.messages = append(rm.messages, message{name, text})
	list := renderMessages(rm.messages)
	// Sent under the lock, so every stream sees the lists in the order of the sends.
	for updates := range rm.streams {
		select {
		case updates <- list:
		default: // a stream that fell 64 lists behind misses this one; the next carries all
		}
	}
	rm.mu.Unlock()
	sse := datastar.NewSSE(w, r)
	_ = sse.PatchSignals([]byte(`{"draft":""}`))
}

func main() {
	port := flag.Int("port", 8000, "TCP port on 127.0.0.1")
	datastarJS := flag.String("datastar-js", "", "file served at /datastar.js (the Datastar client)")
	flag.Parse()

	rm := &room{streams: map[chan string]struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/test", handleTest)
	mux.HandleFunc("GET /{$}", rm.page)
	mux.HandleFunc("GET /stream", rm.stream)
	mux.HandleFunc("POST /send", rm.send)
	mux.HandleFunc("GET /datastar.js", func(w http.ResponseWriter, r *http.Request) {
		if *datastarJS == "" {
			http.Error(w, "start the target with --datastar-js PATH to serve the client", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		http.ServeFile(w, r, *datastarJS)
	})

	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		log.Fatal(err)
	}
	server := &http.Server{Handler: mux}
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
		<-stop
		// Streams never end by themselves: close rather than wait for them.
		_ = server.Close()
	}()
	log.Printf("datastar-go target on http://127.0.0.1:%d", *port)
	if err := server.Serve(listener); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
