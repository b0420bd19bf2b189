package http

import (
	"net/http"
	"strconv"

	"github.com/latchkey/latchkey"
)

// The webhook pages, for owners: the list and the form to add one are on the settings
// page; each webhook has a page of its own with its delivery log, where a delivery is
// sent again.

func (s *Server) webhookUIRoutes() []uiRoute {
	settings := latchkey.PermSettings
	return []uiRoute{
		{Method: "POST", Pattern: "/settings/webhooks", Perm: settings, handler: s.pageAddWebhook},
		{Method: "POST", Pattern: "/settings/webhooks/{id}/delete", Perm: settings, handler: s.settingsAct(func(r *http.Request, id int64) (string, error) {
			return "Webhook " + strconv.FormatInt(id, 10) + " removed, with its delivery log.", s.Service.DeleteWebhook(r.Context(), id)
		})},
		{Method: "GET", Pattern: "/settings/webhooks/{id}", Perm: settings, handler: s.webhookAct(nil)},
		{Method: "POST", Pattern: "/settings/webhooks/{id}/enabled", Perm: settings, handler: s.webhookAct(func(r *http.Request, id int64) (string, error) {
			w, err := s.Service.SetWebhookEnabled(r.Context(), id, r.PostFormValue("enabled") == "1")
			if err != nil {
				return "", err
			}
			if w.Enabled {
				return "Webhook enabled: its waiting deliveries are sent.", nil
			}
			return "Webhook paused: nothing is delivered to it until it is enabled.", nil
		})},
		{Method: "POST", Pattern: "/settings/webhooks/{id}/replay/{delivery}", Perm: settings, handler: s.webhookAct(func(r *http.Request, id int64) (string, error) {
			did, err := pathID(r, "delivery")
			if err != nil {
				return "", err
			}
			d, err := s.Service.ReplayWebhookDelivery(r.Context(), did)
			if err != nil {
				return "", err
			}
			return "Delivery " + strconv.FormatInt(did, 10) + " is sent again as delivery " + strconv.FormatInt(d.ID, 10) + ".", nil
		})},
	}
}

// webhookPage is one webhook and a page of its deliveries, newest first.
type webhookPage struct {
	base
	Webhook    *latchkey.Webhook
	Deliveries []*latchkey.WebhookDelivery
	Total      int
	Offset     int
	Older      int // the offset of the next, older page; 0 when none
}

// deliveriesPerPage is how many deliveries the webhook page shows at a time.
const deliveriesPerPage = 20

// webhookAct runs an act (nil: none) on the webhook named in the path, and shows its
// page with what happened.
func (s *Server) webhookAct(act func(r *http.Request, id int64) (string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		p, err := page(r)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		view := webhookPage{base: s.base(r, "settings"), Offset: p.Offset}
		status := http.StatusOK
		if act != nil {
			if view.Flash, err = act(r, id); err != nil {
				view.Flash, view.Error, status = "", latchkey.ErrorMessage(err), statusOf(w, err)
			}
		}
		if view.Webhook, err = s.Service.FindWebhookByID(r.Context(), id); err != nil {
			s.renderError(w, r, err)
			return
		}
		view.Deliveries, view.Total, err = s.Service.FindWebhookDeliveries(r.Context(), latchkey.WebhookDeliveryFilter{WebhookID: &id}, latchkey.Page{Offset: p.Offset, Limit: deliveriesPerPage})
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		if next := p.Offset + deliveriesPerPage; next < view.Total {
			view.Older = next
		}
		s.render(w, r, status, "webhook", view)
	}
}

func (s *Server) pageAddWebhook(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.settingsWith(w, r, "", latchkey.Errorf(latchkey.EINVALID, "The form could not be read; send it again."), "", "")
		return
	}
	kinds, err := latchkey.ParseWebhookKinds(r.PostForm["event"])
	if err != nil {
		s.settingsWith(w, r, "", err, "", "")
		return
	}
	hook, secret, err := s.Service.CreateWebhook(r.Context(), latchkey.NewWebhook{URL: r.PostFormValue("url"), Events: kinds, Secret: r.PostFormValue("secret")})
	if err != nil {
		s.settingsWith(w, r, "", err, "", "")
		return
	}
	s.settingsWith(w, r, "Webhook "+strconv.FormatInt(hook.ID, 10)+" added.", nil, "", secret)
}
