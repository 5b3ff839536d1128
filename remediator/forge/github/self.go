package github

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"strings"
)

// selfRecord is the remediator's login as kept in the state directory, under a
// digest of the credentials it belongs to (never the credentials themselves): a
// token of another account is asked again.
type selfRecord struct {
	Credentials string `json:"credentials"`
	Login       string `json:"login"`
}

// selfKey names the credentials a login belongs to.
func selfKey(o Options) string {
	who := "token\x00" + o.Token
	if o.AppID != 0 {
		who = "app\x00" + strconv.FormatInt(o.AppID, 10)
	}
	sum := sha256.Sum256([]byte(who + "\x00" + strings.TrimSuffix(o.BaseURL, "/")))
	return hex.EncodeToString(sum[:])
}

// readSelf is the login kept for these credentials, or "".
func (f *Forge) readSelf() string {
	if f.selfFile == "" {
		return ""
	}
	data, err := os.ReadFile(f.selfFile)
	if err != nil {
		return ""
	}
	var rec selfRecord
	if json.Unmarshal(data, &rec) != nil || rec.Credentials != f.selfKey || rec.Login == "" {
		return ""
	}
	return rec.Login
}

// writeSelf keeps the login; a failure only costs the next command one request.
func (f *Forge) writeSelf(login string) {
	if f.selfFile == "" || login == "" {
		return
	}
	if err := writeAtomic(f.selfFile, selfRecord{Credentials: f.selfKey, Login: login}); err != nil {
		f.logger.Debug("github: keep the remediator's login", "err", err)
	}
}
