package sim

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// DefaultZoneTab is Debian tzdata's table of time zones with the
// coordinates of each zone's principal city (public domain).
const DefaultZoneTab = "/usr/share/zoneinfo/zone1970.tab"

// ErrGeo is returned for a city table that cannot be read or parsed.
var ErrGeo = errors.New("sim: city table")

// City is a place users and nodes live around.
type City struct {
	// Name is the zone's city ("Paris" of Europe/Paris); Area the zone's
	// area ("Europe"); Country the first ISO 3166 code listed for it,
	// Codes all of them ("DE,DK,NO,SE,SJ").
	Name, Area, Country, Codes string
	Lat, Lon                   float64
	// Weight is the city's share of users (relative): 1 for every city
	// of the table, millions of people after WeighByPopulation.
	Weight float64
}

// String is "Area/Name".
func (c City) String() string { return c.Area + "/" + c.Name }

// LoadCities reads a zone1970.tab file (see ParseZoneTab).
func LoadCities(path string) ([]City, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrGeo, err)
	}
	defer f.Close()
	return ParseZoneTab(f)
}

// ParseZoneTab parses tzdata's zone1970.tab: "codes TAB ±DDMM[SS]±DDDMM[SS]
// TAB Area/City[/Sub] [TAB comment]" per line, '#' comments. Antarctic
// stations are left out (no users). Every city weighs 1.
func ParseZoneTab(r io.Reader) ([]City, error) {
	var out []City
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		f := strings.Split(s, "\t")
		if len(f) < 3 {
			return nil, fmt.Errorf("%w: line %d: want at least 3 tab-separated fields", ErrGeo, line)
		}
		lat, lon, err := ParseISO6709(f[1])
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrGeo, line, err)
		}
		zone := strings.Split(f[2], "/")
		if len(zone) < 2 {
			return nil, fmt.Errorf("%w: line %d: zone %q has no city", ErrGeo, line, f[2])
		}
		if zone[0] == "Antarctica" {
			continue
		}
		out = append(out, City{
			Name: strings.ReplaceAll(zone[len(zone)-1], "_", " "), Area: zone[0],
			Country: strings.Split(f[0], ",")[0], Codes: f[0], Lat: lat, Lon: lon, Weight: 1,
		})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrGeo, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no cities", ErrGeo)
	}
	return out, nil
}

// ParseISO6709 parses tzdata's coordinates: ±DDMM±DDDMM or
// ±DDMMSS±DDDMMSS, into degrees.
func ParseISO6709(s string) (lat, lon float64, err error) {
	i := strings.IndexAny(s[min(1, len(s)):], "+-") + 1
	if i <= 0 {
		return 0, 0, fmt.Errorf("coordinates %q: want ±DDMM±DDDMM", s)
	}
	if lat, err = dms(s[:i], 2); err == nil {
		lon, err = dms(s[i:], 3)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("coordinates %q: %w", s, err)
	}
	if lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return 0, 0, fmt.Errorf("coordinates %q out of range", s)
	}
	return lat, lon, nil
}

// dms parses ±D..DMM[SS] with deg degree digits.
func dms(s string, deg int) (float64, error) {
	if len(s) < 1+deg+2 || (s[0] != '+' && s[0] != '-') {
		return 0, fmt.Errorf("bad component %q", s)
	}
	digits := s[1:]
	if len(digits) != deg+2 && len(digits) != deg+4 {
		return 0, fmt.Errorf("bad component %q", s)
	}
	var parts []int
	for _, p := range []string{digits[:deg], digits[deg : deg+2], digits[deg+2:]} {
		if p == "" {
			parts = append(parts, 0)
			continue
		}
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("bad component %q", s)
		}
		parts = append(parts, v)
	}
	v := float64(parts[0]) + float64(parts[1])/60 + float64(parts[2])/3600
	if s[0] == '-' {
		v = -v
	}
	return v, nil
}

// EarthRadiusKM is the mean Earth radius (IUGG).
const EarthRadiusKM = 6371.0088

// DistanceKM is the great-circle distance between two points (haversine).
func DistanceKM(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	p1, p2 := lat1*rad, lat2*rad
	dp, dl := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * EarthRadiusKM * math.Asin(math.Sqrt(min(1, a)))
}

// Point is a place on Earth.
type Point struct{ Lat, Lon float64 }

// To is the great-circle distance to q in km.
func (p Point) To(q Point) float64 { return DistanceKM(p.Lat, p.Lon, q.Lat, q.Lon) }

// jitter moves p by up to r km in a direction, both from u1, u2 in [0, 1).
func (p Point) jitter(r, u1, u2 float64) Point {
	d := r * math.Sqrt(u1) // uniform over the disc
	th := 2 * math.Pi * u2
	lat := p.Lat + d*math.Cos(th)/111.2
	lon := p.Lon + d*math.Sin(th)/(111.2*max(math.Cos(p.Lat*math.Pi/180), 0.05))
	lat = max(-90, min(90, lat))
	if lon > 180 {
		lon -= 360
	} else if lon < -180 {
		lon += 360
	}
	return Point{lat, lon}
}
