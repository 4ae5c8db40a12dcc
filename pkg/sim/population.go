package sim

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Users is how the simulated users (and the nodes, drawn like them) are
// spread over the planet.
type Users string

// User spreads: by population (the metro and country tables below) or
// uniformly over the city table's cities.
const (
	UsersPopulation Users = "population"
	UsersUniform    Users = "uniform"
)

// Validate checks the spread.
func (u Users) Validate() error {
	switch u {
	case UsersPopulation, UsersUniform:
		return nil
	}
	return fmt.Errorf("%w: users %q (want population or uniform)", ErrConfig, string(u))
}

func (u Users) String() string { return string(u) }

// Metro is a large urban agglomeration with its population.
type Metro struct {
	Name, Country, Area string
	Lat, Lon            float64
	// Millions is its population in millions.
	Millions float64
}

// Metros are the urban agglomerations of 5 million people or more in
// 2018, after the United Nations' World Urbanization Prospects: The 2018
// Revision (UN DESA, Population Division; its ranking of urban
// agglomerations, 2018 estimates), rounded to 0.1 million; the
// coordinates are the city centres'. Our transcription of the published
// ranking: not checked against the report's data files here, and a few
// per cent either way changes no figure of the simulation.
var Metros = []Metro{
	{"Tokyo", "JP", "Asia", 35.69, 139.69, 37.5},
	{"Delhi", "IN", "Asia", 28.61, 77.21, 28.5},
	{"Shanghai", "CN", "Asia", 31.23, 121.47, 25.6},
	{"Sao Paulo", "BR", "America", -23.55, -46.63, 21.7},
	{"Mexico City", "MX", "America", 19.43, -99.13, 21.6},
	{"Cairo", "EG", "Africa", 30.04, 31.24, 20.1},
	{"Mumbai", "IN", "Asia", 19.08, 72.88, 20.0},
	{"Beijing", "CN", "Asia", 39.90, 116.41, 19.6},
	{"Dhaka", "BD", "Asia", 23.81, 90.41, 19.6},
	{"Osaka", "JP", "Asia", 34.69, 135.50, 19.3},
	{"New York", "US", "America", 40.71, -74.01, 18.8},
	{"Karachi", "PK", "Asia", 24.86, 67.01, 15.4},
	{"Buenos Aires", "AR", "America", -34.60, -58.38, 15.0},
	{"Chongqing", "CN", "Asia", 29.56, 106.55, 14.8},
	{"Istanbul", "TR", "Europe", 41.01, 28.98, 14.8},
	{"Kolkata", "IN", "Asia", 22.57, 88.36, 14.7},
	{"Manila", "PH", "Asia", 14.60, 120.98, 13.5},
	{"Lagos", "NG", "Africa", 6.52, 3.38, 13.5},
	{"Rio de Janeiro", "BR", "America", -22.91, -43.17, 13.3},
	{"Tianjin", "CN", "Asia", 39.34, 117.36, 13.2},
	{"Kinshasa", "CD", "Africa", -4.44, 15.27, 13.2},
	{"Guangzhou", "CN", "Asia", 23.13, 113.26, 12.6},
	{"Los Angeles", "US", "America", 34.05, -118.24, 12.5},
	{"Moscow", "RU", "Europe", 55.76, 37.62, 12.4},
	{"Shenzhen", "CN", "Asia", 22.54, 114.06, 11.9},
	{"Lahore", "PK", "Asia", 31.55, 74.34, 11.7},
	{"Bangalore", "IN", "Asia", 12.97, 77.59, 11.4},
	{"Paris", "FR", "Europe", 48.86, 2.35, 10.9},
	{"Bogota", "CO", "America", 4.71, -74.07, 10.6},
	{"Jakarta", "ID", "Asia", -6.21, 106.85, 10.5},
	{"Chennai", "IN", "Asia", 13.08, 80.27, 10.5},
	{"Lima", "PE", "America", -12.05, -77.04, 10.4},
	{"Bangkok", "TH", "Asia", 13.76, 100.50, 10.2},
	{"Seoul", "KR", "Asia", 37.57, 126.98, 10.0},
	{"Nagoya", "JP", "Asia", 35.18, 136.91, 9.5},
	{"Hyderabad", "IN", "Asia", 17.39, 78.49, 9.5},
	{"London", "GB", "Europe", 51.51, -0.13, 9.0},
	{"Tehran", "IR", "Asia", 35.69, 51.39, 8.9},
	{"Chicago", "US", "America", 41.88, -87.63, 8.9},
	{"Chengdu", "CN", "Asia", 30.57, 104.07, 8.8},
	{"Nanjing", "CN", "Asia", 32.06, 118.80, 8.2},
	{"Wuhan", "CN", "Asia", 30.59, 114.31, 8.2},
	{"Ho Chi Minh City", "VN", "Asia", 10.82, 106.63, 8.1},
	{"Luanda", "AO", "Africa", -8.84, 13.23, 7.8},
	{"Ahmedabad", "IN", "Asia", 23.02, 72.57, 7.7},
	{"Kuala Lumpur", "MY", "Asia", 3.14, 101.69, 7.6},
	{"Xi'an", "CN", "Asia", 34.34, 108.94, 7.4},
	{"Hong Kong", "HK", "Asia", 22.32, 114.17, 7.4},
	{"Dongguan", "CN", "Asia", 23.02, 113.75, 7.4},
	{"Hangzhou", "CN", "Asia", 30.27, 120.16, 7.2},
	{"Foshan", "CN", "Asia", 23.02, 113.12, 7.2},
	{"Shenyang", "CN", "Asia", 41.81, 123.43, 6.9},
	{"Riyadh", "SA", "Asia", 24.71, 46.68, 6.9},
	{"Baghdad", "IQ", "Asia", 33.31, 44.37, 6.8},
	{"Santiago", "CL", "America", -33.45, -70.67, 6.7},
	{"Surat", "IN", "Asia", 21.17, 72.83, 6.6},
	{"Madrid", "ES", "Europe", 40.42, -3.70, 6.5},
	{"Suzhou", "CN", "Asia", 31.30, 120.59, 6.3},
	{"Pune", "IN", "Asia", 18.52, 73.86, 6.3},
	{"Harbin", "CN", "Asia", 45.80, 126.53, 6.1},
	{"Houston", "US", "America", 29.76, -95.37, 6.1},
	{"Dallas", "US", "America", 32.78, -96.80, 6.1},
	{"Toronto", "CA", "America", 43.65, -79.38, 6.1},
	{"Dar es Salaam", "TZ", "Africa", -6.79, 39.21, 6.0},
	{"Miami", "US", "America", 25.76, -80.19, 6.0},
	{"Belo Horizonte", "BR", "America", -19.92, -43.94, 6.0},
	{"Singapore", "SG", "Asia", 1.35, 103.82, 5.8},
	{"Philadelphia", "US", "America", 39.95, -75.17, 5.7},
	{"Atlanta", "US", "America", 33.75, -84.39, 5.6},
	{"Fukuoka", "JP", "Asia", 33.59, 130.40, 5.6},
	{"Khartoum", "SD", "Africa", 15.50, 32.56, 5.5},
	{"Barcelona", "ES", "Europe", 41.39, 2.17, 5.5},
	{"Johannesburg", "ZA", "Africa", -26.20, 28.05, 5.5},
	{"Saint Petersburg", "RU", "Europe", 59.93, 30.36, 5.4},
	{"Qingdao", "CN", "Asia", 36.07, 120.38, 5.4},
	{"Dalian", "CN", "Asia", 38.91, 121.61, 5.3},
	{"Washington", "US", "America", 38.91, -77.04, 5.2},
	{"Yangon", "MM", "Asia", 16.87, 96.20, 5.2},
	{"Alexandria", "EG", "Africa", 31.20, 29.92, 5.1},
	{"Jinan", "CN", "Asia", 36.65, 117.12, 5.1},
	{"Guadalajara", "MX", "America", 20.66, -103.35, 5.0},
}

// CountryMillions are the populations in 2018 of the countries of about
// 10 million people or more, in millions, after the United Nations' World
// Population Prospects 2019 (UN DESA, Population Division), rounded: our
// transcription, with the same caveat as Metros. WorldMillions is the
// world's population in the same source.
var CountryMillions = map[string]float64{
	"CN": 1428, "IN": 1353, "US": 327, "ID": 268, "PK": 212, "BR": 209, "NG": 196,
	"BD": 161, "RU": 146, "JP": 127, "MX": 126, "ET": 109, "PH": 107, "EG": 98,
	"VN": 96, "CD": 84, "DE": 83, "TR": 82, "IR": 82, "TH": 69, "GB": 67, "FR": 65,
	"IT": 61, "ZA": 58, "TZ": 56, "MM": 54, "KE": 51, "KR": 51, "CO": 50, "ES": 47,
	"AR": 44, "UA": 44, "UG": 43, "DZ": 42, "SD": 42, "IQ": 38, "PL": 38, "AF": 37,
	"CA": 37, "MA": 36, "SA": 34, "UZ": 33, "PE": 32, "MY": 32, "AO": 31, "GH": 30,
	"MZ": 30, "VE": 29, "YE": 29, "NP": 28, "KP": 26, "MG": 26, "AU": 25, "CI": 25,
	"CM": 25, "TW": 24, "NE": 22, "LK": 21, "BF": 20, "RO": 19, "ML": 19, "CL": 19,
	"KZ": 18, "MW": 18, "ZM": 17, "GT": 17, "EC": 17, "SY": 17, "NL": 17, "KH": 16,
	"SN": 16, "TD": 15, "SO": 15, "ZW": 14, "GN": 12, "RW": 12, "TN": 12, "BJ": 11,
	"BI": 11, "BO": 11, "BE": 11, "HT": 11, "CU": 11, "SS": 11, "DO": 11, "CZ": 11,
	"GR": 10, "JO": 10, "PT": 10, "AZ": 10, "SE": 10, "HN": 10, "AE": 10, "HU": 10,
}

// WorldMillions is the world's population in 2018 (World Population
// Prospects 2019), in millions.
const WorldMillions = 7631.0

// metroMergeKM: a metro whose country has a city-table city this close
// weighs on that city instead of being a place of its own.
const metroMergeKM = 50

// WeighByPopulation spreads the users by population over cities (a city
// table, e.g. LoadCities's) and the Metros, returning a new table whose
// weights are millions of people:
//
//   - each metro weighs its population, on the table's city of its country
//     within 50 km if there is one (Paris on Europe/Paris), else as a city
//     of its own (Mumbai, Delhi, Beijing...);
//   - the rest of a country in CountryMillions (its population less its
//     metros) goes to its metros in proportion to their populations, or,
//     with no metro, evenly to the table's cities of that country (listed
//     first on their zone line, else anywhere on it; a country with no
//     city in the table counts as the rest of the world);
//   - the rest of the world (WorldMillions less those countries and the
//     metros of other countries) goes evenly to the table's cities of no
//     listed country.
//
// The weights add up to WorldMillions.
//
// It is deterministic (no randomness; the metros are appended in table
// order) and leaves cities unchanged.
func WeighByPopulation(cities []City) ([]City, error) {
	if len(cities) == 0 {
		return nil, fmt.Errorf("%w: no cities", ErrGeo)
	}
	out := slices.Clone(cities)
	for i := range out {
		out[i].Weight = 0
	}
	// The metros: on a nearby city of their country, or places of their own.
	metrosOf := map[string]map[int]float64{} // country -> index in out -> its metros' millions
	metroPop := map[string]float64{}
	for _, m := range Metros {
		at, best := -1, float64(metroMergeKM)
		for i, c := range cities {
			if !c.lists(m.Country) {
				continue
			}
			if d := DistanceKM(m.Lat, m.Lon, c.Lat, c.Lon); d <= best {
				at, best = i, d
			}
		}
		if at < 0 {
			out = append(out, City{Name: m.Name, Area: m.Area, Country: m.Country, Codes: m.Country, Lat: m.Lat, Lon: m.Lon})
			at = len(out) - 1
		}
		if metrosOf[m.Country] == nil {
			metrosOf[m.Country] = map[int]float64{}
		}
		metrosOf[m.Country][at] += m.Millions
		out[at].Weight += m.Millions
		metroPop[m.Country] += m.Millions
	}
	// The rest of each listed country.
	listed := 0.0
	for _, cc := range slices.Sorted(maps.Keys(CountryMillions)) {
		pop := CountryMillions[cc]
		rest := max(0, pop-metroPop[cc])
		if ms := metrosOf[cc]; len(ms) > 0 {
			for _, i := range slices.Sorted(maps.Keys(ms)) {
				out[i].Weight += rest * ms[i] / metroPop[cc]
			}
			listed += pop
			continue
		}
		var in []int
		for i, c := range cities {
			if c.Country == cc {
				in = append(in, i)
			}
		}
		if len(in) == 0 {
			for i, c := range cities {
				if c.lists(cc) {
					in = append(in, i)
				}
			}
		}
		if len(in) == 0 {
			continue // not in this table: part of the rest of the world
		}
		for _, i := range in {
			out[i].Weight += rest / float64(len(in))
		}
		listed += pop
	}
	// The rest of the world, less the metros of unlisted countries.
	for _, cc := range slices.Sorted(maps.Keys(metroPop)) {
		if _, ok := CountryMillions[cc]; !ok {
			listed += metroPop[cc]
		}
	}
	var others []int
	for i, c := range cities {
		if _, ok := CountryMillions[c.Country]; !ok {
			others = append(others, i)
		}
	}
	if len(others) == 0 {
		return nil, fmt.Errorf("%w: no city outside the listed countries for the rest of the world", ErrGeo)
	}
	for _, i := range others {
		out[i].Weight += (WorldMillions - listed) / float64(len(others))
	}
	return out, nil
}

// lists tells whether country is among the city's zone's countries.
func (c City) lists(country string) bool {
	codes := c.Codes
	if codes == "" {
		codes = c.Country
	}
	return slices.Contains(strings.Split(codes, ","), country)
}
