package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// maxNameLen bounds a user's name, in characters.
const maxNameLen = 200

// user is the JSON of the /users endpoints. The API says "name" whatever the column is.
type user struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// userRoutes adds the database mode's endpoints to mux:
//
//	POST /users      {"name": N}  → 201 {"id": ID, "name": N}
//	GET  /users/{id}              → 200 {"id": ID, "name": N}, 404 if absent
//	PUT  /users/{id} {"name": N}  → 200 {"id": ID, "name": N}, 404 if absent
//
// A response of 2xx means the write is committed. Bad input is 400 naming the field; a
// database error is 500 with the error.
func (a *app) userRoutes(mux *http.ServeMux) {
	mux.Handle("POST /users", a.chaos(http.HandlerFunc(a.createUser)))
	mux.Handle("GET /users/{id}", a.chaos(http.HandlerFunc(a.getUser)))
	mux.Handle("PUT /users/{id}", a.chaos(http.HandlerFunc(a.updateUser)))
}

func (a *app) createUser(w http.ResponseWriter, r *http.Request) {
	name, ok := readName(w, r)
	if !ok {
		return
	}
	id, err := a.users.create(r.Context(), name)
	if err != nil {
		dbError(w, "create user", err)
		return
	}
	writeUser(w, http.StatusCreated, user{ID: id, Name: name})
}

func (a *app) getUser(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	name, err := a.users.get(r.Context(), id)
	if err != nil {
		dbError(w, "get user", err)
		return
	}
	writeUser(w, http.StatusOK, user{ID: id, Name: name})
}

func (a *app) updateUser(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	name, ok := readName(w, r)
	if !ok {
		return
	}
	if err := a.users.update(r.Context(), id, name); err != nil {
		dbError(w, "update user", err)
		return
	}
	writeUser(w, http.StatusOK, user{ID: id, Name: name})
}

// readName decodes {"name": N} from the body, answering 400 when it is not valid.
func readName(w http.ResponseWriter, r *http.Request) (string, bool) {
	var in struct {
		Name *string `json:"name"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
	var msg string
	switch err := dec.Decode(&in); {
	case err != nil:
		msg = "body: want JSON {\"name\": \"...\"}: " + err.Error()
	case in.Name == nil || *in.Name == "":
		msg = "name: required"
	case utf8.RuneCountInString(*in.Name) > maxNameLen || !utf8.ValidString(*in.Name):
		msg = fmt.Sprintf("name: want valid UTF-8 of at most %d characters", maxNameLen)
	default:
		return *in.Name, true
	}
	http.Error(w, msg, http.StatusBadRequest)
	return "", false
}

func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		http.Error(w, fmt.Sprintf("id %q: want a positive integer", r.PathValue("id")), http.StatusBadRequest)
		return 0, false
	}
	return id, true
}

func dbError(w http.ResponseWriter, op string, err error) {
	if errors.Is(err, errNoUser) {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	http.Error(w, op+": "+err.Error(), http.StatusInternalServerError)
}

func writeUser(w http.ResponseWriter, status int, u user) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(u)
}

// dbUnready answers 503 and returns true when the database does not answer or lacks a column
// the schema uses, so a revision whose expand has not run never becomes ready.
func (a *app) dbUnready(w http.ResponseWriter, r *http.Request) bool {
	err := a.users.check(r.Context())
	if err != nil {
		http.Error(w, "database: "+err.Error(), http.StatusServiceUnavailable)
	}
	return err != nil
}
