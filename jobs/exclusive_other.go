//go:build !unix

package jobs

// holdExclusive cannot lock a file here, so the queue is not taken for this process's
// alone: a job left running by a crash is run again after JobTimeout + RescueMargin, as
// on PostgreSQL.
func holdExclusive(string) (release func(), exclusive bool, err error) { return func() {}, false, nil }
