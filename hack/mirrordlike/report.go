package main

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opconform/opconform/client"
	"github.com/opconform/opconform/contract"
)

// The help texts of the CLI's errors (mirrord/cli/src/error.rs at 3.250.0: GENERAL_HELP,
// GENERAL_BUG and the diagnostics of OperatorApiFailed, OperatorApiForbidden and
// OperatorNotInstalled).
const (
	generalHelp = `

- If you're still stuck:

>> Please open a new bug report at https://github.com/metalbear-co/mirrord/issues/new/choose

>> Or join our Slack https://metalbear.com/slack and request help in #mirrord-help

>> Or email us at hi@metalbear.com
`
	generalBug = `This is a bug. Please report it in our Slack or GitHub repository.

>> Please open a new bug report at https://github.com/metalbear-co/mirrord/issues/new/choose

>> Or join our Slack https://metalbear.com/slack and request help in #mirrord-help

>> Or email us at hi@metalbear.com
`
	apiFailedHelp = `Please check the following:
    1. The operator is running and the logs are not showing any errors.
    2. You have sufficient permissions to use the operator (mirrord-operator-user role bound to you)

    If you want to run without the operator, please set ` + "`\"operator\": false`" + ` in the mirrord configuration file.

    Please remember that some features are supported only when using mirrord operator (https://metalbear.com/mirrord/docs/overview/teams?utm_source=erropfailed&utm_medium=cli#supported-features).` + generalHelp
	forbiddenHelp    = `If the problem refers to mirrord operator license, visit https://app.metalbear.com to manage or renew your license.` + generalHelp
	notInstalledHelp = `Command requires the mirrord operator or operator usage was explicitly enabled in the configuration file.
        Read more here: https://metalbear.com/mirrord/docs/overview/quick-start/#operator.` + generalHelp
)

// report is what the CLI prints on standard error for err: the CliError the operator's
// answer becomes, as miette renders it. With the unclear-refusal defect a refusal is
// reported without the operator's message: a stand-in broken on purpose.
func report(err error, defect client.Defect) string {
	if errors.Is(err, client.ErrOperatorNotInstalled) {
		return miette("mirrord operator was not found in the cluster.", notInstalledHelp)
	}
	st, op, ok := apiError(err)
	if !ok {
		return miette(err.Error(), generalHelp)
	}
	if defect == client.DefectUnclearRefusal {
		return miette("mirrord operator rejected "+op, forbiddenHelp)
	}
	apiErr := "ApiError: " + st.Message + ": " + string(st.Reason) + " (" + statusDebug(st) + ")"
	switch {
	case op == "":
		// a certificate request: OperatorApiError::ClientCertError, CliError::OperatorClientCertError
		return miette("Failed to prepare mirrord operator client certificate: failed to get client certificate: "+apiErr, generalBug)
	case st.Code == http.StatusForbidden:
		return miette("mirrord operator rejected "+op+": "+st.Message, forbiddenHelp)
	}
	return miette("mirrord operator API failed: "+op+" failed with "+apiErr, apiFailedHelp)
}

// apiError is the operator's Status inside err and the operation (OperatorOperation's
// Display, mirrord/operator/src/client/error.rs) of the request it answered; "" for the
// certificate request, which the CLI reports otherwise.
func apiError(err error) (metav1.Status, string, bool) {
	var refused *client.RefusalError
	if errors.As(err, &refused) {
		method, target, _ := strings.Cut(refused.Request, " ")
		path, query, _ := strings.Cut(target, "?")
		return refused.Status, operation(contract.Classify(contract.Request{Method: method, Path: path, Connect: strings.Contains(query, "connect=true")}).Class, path), true
	}
	var se *apierrors.StatusError
	if !errors.As(err, &se) {
		return metav1.Status{}, "", false
	}
	// an answer that was no refusal: the reference client's error says which request
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "connect "):
		return se.ErrStatus, "creating a websocket connection", true
	case strings.Contains(msg, "copy target"):
		return se.ErrStatus, "copying target", true
	case strings.HasPrefix(msg, "requesting a certificate"):
		return se.ErrStatus, "", true
	case strings.HasPrefix(msg, "resolving target"):
		return se.ErrStatus, "finding target", true
	}
	return se.ErrStatus, "finding operator", true
}

// operation names the operation a request of class belongs to.
func operation(class contract.Class, path string) string {
	switch {
	case class == contract.ClassOperatorGet, class == contract.ClassOperatorDiscovery:
		return "finding operator"
	case class == contract.ClassCredentialRequest:
		return ""
	case class.IsConnect() || strings.Contains(path, "/proxy/"):
		return "creating a websocket connection"
	case class == contract.ClassCopyTargetList, class == contract.ClassCopyTargetCreate, class == contract.ClassCopyTargetGet:
		return "copying target"
	case class == contract.ClassSessionList, class == contract.ClassSessionDelete:
		return "session management"
	case class == contract.ClassTargetList:
		return "listing targets"
	}
	return "finding target"
}

// miette renders an error with a help text as miette's graphical handler does without
// colours: the message after `Error:   × `, the help after `  help: `, its lines indented.
func miette(message, help string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Error:   × %s\n", message)
	for i, line := range strings.Split(strings.TrimRight(help, "\n"), "\n") {
		if i == 0 {
			fmt.Fprintf(&b, "  help: %s\n", line)
			continue
		}
		fmt.Fprintf(&b, "        %s\n", line)
	}
	return b.String()
}
