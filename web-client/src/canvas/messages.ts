// The canvas page's newer messages in the app's four languages (merged into the catalogues
// by i18n/*.ts; every language has exactly the English keys). Keys start with `canvas.`.

export const canvasEn = {
  'canvas.image.title': 'The picture cannot be shown.',
  'canvas.image.itsServer': 'its image server',
  'canvas.image.cors':
    'Its image server ({origin}) does not let other websites use its pictures (it sends no CORS headers). Ask that server’s administrator to allow {site}, or upload the image to this workspace.',
  'canvas.image.policy':
    'This Sinopia does not allow pictures from {origin}: no manifest of your workspaces names that server, or too many servers are named. Reload the page; if this stays, ask an administrator.',
  'canvas.image.unreachable': 'Its image server ({origin}) does not answer. Check your connection and reload the page later.',
  'canvas.image.bad': 'Its image service did not describe the picture (info.json). Check the image service named by the manifest.',
  'canvas.image.standIn': 'The annotations are shown on a plain ground of the picture’s size: they can still be read, chosen, discussed and drawn.',
  'canvas.keyboard.viewer':
    'Image. Arrow keys move the view; with a rectangle, ellipse or point tool chosen, D draws in the middle of the view; arrow keys move the chosen annotation, Shift with arrow keys resizes it.',
  'canvas.keyboard.drawHere': 'Draw in the middle',
  'canvas.keyboard.drawn': 'Drawn in the middle of the view. Arrow keys move it, Shift with arrow keys resizes it; C writes its comment.',
  'canvas.keyboard.onlyShapes': 'With the keyboard, draw a rectangle, an ellipse or a point; the other tools need a pointer.',
  'shortcut.drawHere': 'Draw the chosen shape in the middle of the view (rectangle, ellipse, point)',
  'shortcut.nudge': 'Move the view, or the chosen annotation',
  'shortcut.resize': 'Resize the chosen annotation',
} satisfies Record<string, string>;

export const canvasFr: Record<keyof typeof canvasEn, string> = {
  'canvas.image.title': 'L’image ne peut pas être affichée.',
  'canvas.image.itsServer': 'son serveur d’images',
  'canvas.image.cors':
    'Son serveur d’images ({origin}) ne permet pas aux autres sites d’utiliser ses images (il n’envoie pas d’en-têtes CORS). Demandez à l’administrateur de ce serveur d’autoriser {site}, ou téléversez l’image dans cet espace de travail.',
  'canvas.image.policy':
    'Ce Sinopia n’autorise pas les images de {origin} : aucun manifeste de vos espaces de travail ne nomme ce serveur, ou trop de serveurs sont nommés. Rechargez la page ; si cela persiste, demandez à un administrateur.',
  'canvas.image.unreachable': 'Son serveur d’images ({origin}) ne répond pas. Vérifiez votre connexion et rechargez la page plus tard.',
  'canvas.image.bad': 'Son service d’images n’a pas décrit l’image (info.json). Vérifiez le service d’images nommé par le manifeste.',
  'canvas.image.standIn': 'Les annotations sont montrées sur un fond uni de la taille de l’image : on peut toujours les lire, les choisir, en discuter et en dessiner.',
  'canvas.keyboard.viewer':
    'Image. Les flèches déplacent la vue ; avec l’outil rectangle, ellipse ou point choisi, D dessine au milieu de la vue ; les flèches déplacent l’annotation choisie, Maj avec les flèches la redimensionne.',
  'canvas.keyboard.drawHere': 'Dessiner au milieu',
  'canvas.keyboard.drawn': 'Dessinée au milieu de la vue. Les flèches la déplacent, Maj avec les flèches la redimensionne ; C pour écrire son commentaire.',
  'canvas.keyboard.onlyShapes': 'Au clavier, dessinez un rectangle, une ellipse ou un point ; les autres outils demandent un pointeur.',
  'shortcut.drawHere': 'Dessiner la forme choisie au milieu de la vue (rectangle, ellipse, point)',
  'shortcut.nudge': 'Déplacer la vue, ou l’annotation choisie',
  'shortcut.resize': 'Redimensionner l’annotation choisie',
};

export const canvasDe: Record<keyof typeof canvasEn, string> = {
  'canvas.image.title': 'Das Bild kann nicht angezeigt werden.',
  'canvas.image.itsServer': 'sein Bildserver',
  'canvas.image.cors':
    'Sein Bildserver ({origin}) erlaubt anderen Websites nicht, seine Bilder zu verwenden (er sendet keine CORS-Header). Bitten Sie die Administration dieses Servers, {site} zuzulassen, oder laden Sie das Bild in diesen Arbeitsbereich hoch.',
  'canvas.image.policy':
    'Dieses Sinopia erlaubt keine Bilder von {origin}: Kein Manifest Ihrer Arbeitsbereiche nennt diesen Server, oder es sind zu viele Server genannt. Laden Sie die Seite neu; bleibt es so, fragen Sie eine Administratorin oder einen Administrator.',
  'canvas.image.unreachable': 'Sein Bildserver ({origin}) antwortet nicht. Prüfen Sie Ihre Verbindung und laden Sie die Seite später neu.',
  'canvas.image.bad': 'Sein Bilddienst hat das Bild nicht beschrieben (info.json). Prüfen Sie den im Manifest genannten Bilddienst.',
  'canvas.image.standIn': 'Die Annotationen werden auf einem schlichten Grund in der Größe des Bildes gezeigt: Sie lassen sich weiter lesen, auswählen, besprechen und zeichnen.',
  'canvas.keyboard.viewer':
    'Bild. Pfeiltasten verschieben die Ansicht; mit gewähltem Rechteck-, Ellipsen- oder Punktwerkzeug zeichnet D in der Mitte der Ansicht; Pfeiltasten verschieben die gewählte Annotation, Umschalt mit Pfeiltasten ändert ihre Größe.',
  'canvas.keyboard.drawHere': 'In der Mitte zeichnen',
  'canvas.keyboard.drawn': 'In der Mitte der Ansicht gezeichnet. Pfeiltasten verschieben sie, Umschalt mit Pfeiltasten ändert ihre Größe; C schreibt ihren Kommentar.',
  'canvas.keyboard.onlyShapes': 'Mit der Tastatur zeichnen Sie ein Rechteck, eine Ellipse oder einen Punkt; die anderen Werkzeuge brauchen einen Zeiger.',
  'shortcut.drawHere': 'Die gewählte Form in der Mitte der Ansicht zeichnen (Rechteck, Ellipse, Punkt)',
  'shortcut.nudge': 'Die Ansicht oder die gewählte Annotation verschieben',
  'shortcut.resize': 'Die Größe der gewählten Annotation ändern',
};

export const canvasIt: Record<keyof typeof canvasEn, string> = {
  'canvas.image.title': 'L’immagine non può essere mostrata.',
  'canvas.image.itsServer': 'il suo server di immagini',
  'canvas.image.cors':
    'Il suo server di immagini ({origin}) non permette ad altri siti di usare le sue immagini (non invia intestazioni CORS). Chiedete all’amministratore di quel server di autorizzare {site}, oppure caricate l’immagine in questo spazio di lavoro.',
  'canvas.image.policy':
    'Questo Sinopia non consente immagini da {origin}: nessun manifest dei vostri spazi di lavoro nomina quel server, oppure ne sono nominati troppi. Ricaricate la pagina; se persiste, chiedete a un amministratore.',
  'canvas.image.unreachable': 'Il suo server di immagini ({origin}) non risponde. Controllate la connessione e ricaricate la pagina più tardi.',
  'canvas.image.bad': 'Il suo servizio di immagini non ha descritto l’immagine (info.json). Controllate il servizio di immagini indicato dal manifest.',
  'canvas.image.standIn': 'Le annotazioni sono mostrate su un fondo uniforme delle dimensioni dell’immagine: si possono ancora leggere, scegliere, discutere e disegnare.',
  'canvas.keyboard.viewer':
    'Immagine. Le frecce spostano la vista; con lo strumento rettangolo, ellisse o punto scelto, D disegna al centro della vista; le frecce spostano l’annotazione scelta, Maiusc con le frecce la ridimensiona.',
  'canvas.keyboard.drawHere': 'Disegna al centro',
  'canvas.keyboard.drawn': 'Disegnata al centro della vista. Le frecce la spostano, Maiusc con le frecce la ridimensiona; C per scriverne il commento.',
  'canvas.keyboard.onlyShapes': 'Con la tastiera disegnate un rettangolo, un’ellisse o un punto; gli altri strumenti richiedono un puntatore.',
  'shortcut.drawHere': 'Disegna la forma scelta al centro della vista (rettangolo, ellisse, punto)',
  'shortcut.nudge': 'Sposta la vista, o l’annotazione scelta',
  'shortcut.resize': 'Ridimensiona l’annotazione scelta',
};
