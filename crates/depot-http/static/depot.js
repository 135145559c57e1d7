/* depot — the pages' one script. Progressive enhancement: every page works without it.
 * It adds: the file checked in the browser before sending (same French messages as the
 * server, written by the server into the form), a progress bar while sending, the refusal
 * shown in place; a warning five minutes before the session ends, with a way to stay
 * connected; a button that shows the password being typed. */
(function () {
  "use strict";

  function $(sel, racine) { return (racine || document).querySelector(sel); }
  function tous(sel, racine) { return Array.prototype.slice.call((racine || document).querySelectorAll(sel)); }

  /* ---- Upload: check, progress, refusal in place ---- */

  function extension(nom) {
    var i = nom.lastIndexOf(".");
    return i < 0 ? "" : nom.slice(i + 1).toLowerCase();
  }

  function message(modele, nom) {
    return (modele || "").split("\u00abNOM\u00bb").join(nom);
  }

  function montrer(zone, texte, sorte) {
    zone.hidden = false;
    zone.className = "retour-envoi alerte " + sorte;
    zone.textContent = "";
    var p = document.createElement("p");
    p.textContent = texte;
    zone.appendChild(p);
  }

  function preparerEnvoi(form) {
    var champ = $("input[type=file]", form);
    var bouton = $("button[type=submit]", form);
    var zone = $(".retour-envoi", form);
    var barre = $(".progression", form);
    if (!champ || !bouton || !zone || !barre || !window.XMLHttpRequest || !window.FormData) {
      return;
    }
    var jauge = $("progress", barre);
    var pourcent = $(".pourcent", barre);
    var libelleBouton = bouton.textContent;

    function finir() {
      bouton.disabled = false;
      bouton.textContent = libelleBouton;
      form.removeAttribute("aria-busy");
    }

    form.addEventListener("submit", function (ev) {
      var f = champ.files && champ.files[0];
      if (!f) { return; } /* the browser's own "required" message */
      var max = parseInt(form.getAttribute("data-max-octets"), 10);
      var admises = (form.getAttribute("data-extensions") || "").split(",");
      var refus = null;
      if (f.size === 0) {
        refus = message(form.getAttribute("data-message-vide"), f.name);
      } else if (max > 0 && f.size > max) {
        refus = message(form.getAttribute("data-message-taille"), f.name);
      } else if (admises.indexOf(extension(f.name)) < 0) {
        refus = message(form.getAttribute("data-message-format"), f.name);
      }
      ev.preventDefault();
      if (refus) {
        montrer(zone, refus, "erreur");
        champ.focus();
        return;
      }
      var donnees = new FormData(form);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-Depot-Script", "envoi");
      bouton.disabled = true;
      bouton.textContent = "Envoi en cours…";
      form.setAttribute("aria-busy", "true");
      zone.hidden = true;
      barre.hidden = false;
      jauge.value = 0;
      pourcent.textContent = "0 %";
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable && e.total > 0) {
          var p = Math.floor((e.loaded * 100) / e.total);
          jauge.value = p;
          // Every byte sent: the server checks the file before recording it.
          pourcent.textContent = p >= 100 ? "100 % — vérification du fichier…" : p + " %";
        }
      });
      xhr.addEventListener("load", function () {
        var suite = xhr.getResponseHeader("X-Depot-Suite");
        if (xhr.status >= 200 && xhr.status < 300 && suite) {
          jauge.value = 100;
          pourcent.textContent = "Fichier enregistré";
          window.location.assign(suite);
          return;
        }
        barre.hidden = true;
        finir();
        if (xhr.status === 401) {
          montrer(zone, form.getAttribute("data-message-session"), "erreur");
          return;
        }
        var texte = null;
        try {
          var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
          var a = doc.querySelector(".alerte.erreur");
          texte = a ? a.textContent.trim() : null;
        } catch (e) { texte = null; }
        montrer(zone, texte || "Le fichier n'a pas pu être enregistré. Réessayez dans un instant.", "erreur");
      });
      xhr.addEventListener("error", function () {
        barre.hidden = true;
        finir();
        montrer(zone, "La connexion a été interrompue pendant l'envoi : le fichier n'a pas été enregistré. Vérifiez votre connexion, puis déposez-le de nouveau.", "erreur");
      });
      xhr.send(donnees);
    });
  }

  /* ---- Session: a warning five minutes before it ends ---- */

  function preparerSession(bloc) {
    var restante = parseInt(bloc.getAttribute("data-restante"), 10);
    if (!(restante > 0)) { return; }
    var avance = parseInt(bloc.getAttribute("data-avance") || "300", 10);
    var compte = $(".compte", bloc);
    var bouton = $("button", bloc);
    var fin = Date.now() + restante * 1000;
    var minuteur = null;
    var alerte = null;

    function afficher() {
      var s = Math.max(0, Math.round((fin - Date.now()) / 1000));
      if (s === 0) {
        clearInterval(minuteur);
        $(".avant", bloc).hidden = true;
        $(".apres", bloc).hidden = false;
        return;
      }
      var m = Math.floor(s / 60);
      compte.textContent = m > 0 ? m + " min " + (s % 60) + " s" : s + " s";
    }

    function planifier() {
      clearTimeout(alerte);
      clearInterval(minuteur);
      bloc.hidden = true;
      alerte = setTimeout(function () {
        bloc.hidden = false;
        afficher();
        minuteur = setInterval(afficher, 1000);
        bouton.focus();
      }, Math.max(0, fin - Date.now() - avance * 1000));
    }

    bouton.addEventListener("click", function () {
      var xhr = new XMLHttpRequest();
      xhr.open("GET", bloc.getAttribute("data-url"));
      xhr.setRequestHeader("X-Depot-Script", "session");
      xhr.addEventListener("load", function () {
        var r = null;
        try { r = JSON.parse(xhr.responseText); } catch (e) { r = null; }
        if (xhr.status === 200 && r && r.restante_s > 0) {
          fin = Date.now() + r.restante_s * 1000;
          planifier();
        } else {
          fin = Date.now();
          afficher();
        }
      });
      xhr.send();
    });
    planifier();
  }

  /* ---- Passwords: show what is typed ---- */

  function preparerMontrer(bouton) {
    var champ = document.getElementById(bouton.getAttribute("data-montrer"));
    if (!champ) { return; }
    bouton.hidden = false;
    bouton.addEventListener("click", function () {
      var visible = champ.type === "text";
      champ.type = visible ? "password" : "text";
      bouton.setAttribute("aria-pressed", visible ? "false" : "true");
    });
  }

  /* ---- Forms whose action cannot be undone ---- */

  function preparerConfirmation(form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirmer"))) { ev.preventDefault(); }
    });
  }

  function demarrer() {
    tous("form[data-envoi]").forEach(preparerEnvoi);
    tous("#session[data-restante]").forEach(preparerSession);
    tous("button[data-montrer]").forEach(preparerMontrer);
    tous("form[data-confirmer]").forEach(preparerConfirmation);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", demarrer);
  } else {
    demarrer();
  }
})();
