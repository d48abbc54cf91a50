package portal

import "strings"

// deviceName guesses a readable name for the device behind a User-Agent,
// such as "Chrome on Linux" or "Safari on iPhone", to prefill the sign-in
// form's device name. It returns "" when it recognises neither the browser
// nor the system. The guess is only a default the person can change, so
// the rules stay few: the first match in each list wins, and the lists are
// ordered because browsers name the engines they imitate (Edge says Chrome,
// Chrome says Safari).
func deviceName(ua string) string {
	browser := firstMatch(ua, browsers)
	system := firstMatch(ua, systems)
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	}
	return system
}

type uaRule struct{ token, name string }

var browsers = []uaRule{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"},
	{"OPR/", "Opera"}, {"SamsungBrowser/", "Samsung Internet"},
	{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
	{"CriOS/", "Chrome"}, {"Chromium/", "Chromium"}, {"HeadlessChrome/", "Chrome"}, {"Chrome/", "Chrome"},
	{"Safari/", "Safari"}, {"curl/", "curl"},
}

var systems = []uaRule{
	{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Android", "Android"},
	{"CrOS", "ChromeOS"}, {"Windows", "Windows"}, {"Mac OS X", "macOS"}, {"Macintosh", "macOS"},
	{"Linux", "Linux"}, {"FreeBSD", "FreeBSD"},
}

func firstMatch(ua string, rules []uaRule) string {
	for _, r := range rules {
		if strings.Contains(ua, r.token) {
			return r.name
		}
	}
	return ""
}
